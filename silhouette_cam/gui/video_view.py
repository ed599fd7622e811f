"""The live view: paints the newest frame, aspect ratio kept, centred on black.

The worker already scaled the frame to `target_size` (the view's size in device pixels) and
converted it to a blit-ready 32-bit QImage, so painting is one unscaled drawImage — the GUI
thread does no resampling or color conversion. When the view is resized, frames of the old size
are drawn scaled (fast, unsmoothed) for the one or two frames until the worker catches up.
Without a frame (starting, error) the view shows a centred message instead.
"""

from __future__ import annotations

import time
from collections import deque

import cv2
import numpy as np
from PySide6.QtCore import QRect, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QSizePolicy, QWidget


def fit_rect(image_size: QSize, area: QRect) -> QRect:
    """The largest rect with image_size's aspect ratio that fits in `area`, centred in it."""
    if image_size.isEmpty() or area.isEmpty():
        return QRect(area)
    scaled = image_size.scaled(area.size(), Qt.AspectRatioMode.KeepAspectRatio)
    left = area.x() + (area.width() - scaled.width()) // 2
    top = area.y() + (area.height() - scaled.height()) // 2
    return QRect(left, top, scaled.width(), scaled.height())


def to_display_image(image_rgb: np.ndarray, target: QSize, ratio: float, *, mirror: bool = False) -> QImage:
    """[H, W, 3] RGB uint8 -> an owned Format_RGB32 QImage fitting `target` (device px), aspect kept;
    mirror: flipped left-right (a self-view), after scaling, where it costs least."""
    height, width = image_rgb.shape[:2]
    scale = min(target.width() / width, target.height() / height) if not target.isEmpty() else 1.0
    out_w, out_h = max(1, round(width * scale)), max(1, round(height * scale))
    if (out_w, out_h) != (width, height):
        # Bilinear is ~3x cheaper than area averaging and alias-free down to half size.
        interpolation = cv2.INTER_AREA if scale < 0.5 else cv2.INTER_LINEAR
        image_rgb = cv2.resize(image_rgb, (out_w, out_h), interpolation=interpolation)
    if mirror:
        image_rgb = cv2.flip(image_rgb, 1)
    qimage = QImage(out_w, out_h, QImage.Format.Format_RGB32)  # owns its pixels; we fill them in place
    pixels = np.frombuffer(qimage.bits(), np.uint8).reshape(out_h, qimage.bytesPerLine() // 4, 4)
    cv2.cvtColor(np.ascontiguousarray(image_rgb), cv2.COLOR_RGB2BGRA, dst=pixels[:, :out_w])
    qimage.setDevicePixelRatio(ratio)
    return qimage


class VideoView(QWidget):
    """Shows QImages (owned copies from the worker); emits target_size when the space changes."""

    # The size, in device pixels, frames should have to be painted 1:1.
    target_size_changed = Signal(QSize)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(320, 180)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)  # click the video: keys go to the shortcuts
        # We paint every pixel ourselves: skip Qt's background erase.
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent, True)
        self._image: QImage | None = None
        self._message = ""
        self._message_is_error = False
        self.paint_ms: deque[float] = deque(maxlen=600)  # recent paintEvent durations, for the bench
        self.frames_painted = 0

    # -- state ----------------------------------------------------------------------------------
    @property
    def image(self) -> QImage | None:
        return self._image

    @property
    def message(self) -> str:
        return self._message

    def target_size(self) -> QSize:
        ratio = self.devicePixelRatioF()
        return QSize(max(1, round(self.width() * ratio)), max(1, round(self.height() * ratio)))

    def show_frame(self, image: QImage) -> None:
        """Display `image` (must be owned, e.g. a .copy(): the view keeps it until the next one)."""
        self._image = image
        self.update()

    def show_message(self, text: str, *, error: bool = False) -> None:
        """A centred message; drawn over the last frame when there is one, alone otherwise."""
        self._message = text
        self._message_is_error = error
        self.update()

    def clear_message(self) -> None:
        if self._message:
            self._message = ""
            self.update()

    # -- Qt -------------------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt override)
        super().resizeEvent(event)
        self.target_size_changed.emit(self.target_size())

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        start = time.perf_counter()
        painter = QPainter(self)
        area = self.rect()
        image = self._image
        if image is None or image.isNull():
            painter.fillRect(area, QColor(16, 16, 18))
        else:
            ratio = image.devicePixelRatio() or 1.0
            logical = QSize(round(image.width() / ratio), round(image.height() / ratio))
            target = fit_rect(logical, area)
            # Black bars only where the frame does not cover (avoids overdrawing the whole view).
            painter.fillRect(QRect(0, 0, area.width(), target.top()), Qt.GlobalColor.black)
            painter.fillRect(QRect(0, target.bottom() + 1, area.width(), area.height()), Qt.GlobalColor.black)
            painter.fillRect(QRect(0, target.top(), target.left(), target.height()), Qt.GlobalColor.black)
            painter.fillRect(
                QRect(target.right() + 1, target.top(), area.width(), target.height()), Qt.GlobalColor.black
            )
            painter.drawImage(target, image)
            self.frames_painted += 1
        if self._message:
            self._paint_message(painter, area)
        painter.end()
        self.paint_ms.append((time.perf_counter() - start) * 1000.0)

    def _paint_message(self, painter: QPainter, area: QRect) -> None:
        font = QFont(self.font())
        font.setPointSizeF(max(11.0, font.pointSizeF() * 1.4))
        painter.setFont(font)
        metrics = painter.fontMetrics()
        flags = Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap
        box = metrics.boundingRect(area.adjusted(40, 40, -40, -40), flags, self._message)
        box = box.adjusted(-18, -12, 18, 12)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(120, 20, 20, 220) if self._message_is_error else QColor(0, 0, 0, 180))
        painter.drawRoundedRect(box, 10, 10)
        painter.setPen(QColor(245, 245, 245))
        painter.drawText(box, flags, self._message)
