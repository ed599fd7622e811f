"""Heads-up display over the live view: FPS, per-stage ms, device and precision, model variant,
and the virtual camera's device and frames sent per second while it is on.

The text is rebuilt at most REFRESH_HZ times a second (numbers that change 60 times a second are
unreadable and cost paint time); painting it is a few drawText calls on a translucent box.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

from PySide6.QtCore import QPoint, QRect, Qt
from PySide6.QtGui import QColor, QFont, QFontDatabase, QPainter, QPaintEvent
from PySide6.QtWidgets import QWidget

REFRESH_HZ = 4.0
STAGES = ("capture", "segment", "refine", "render")


@dataclass(frozen=True)
class HudStats:
    """One frame's numbers for the HUD; ms values may be nan when a stage has not run yet."""

    fps: float = 0.0  # frames processed per second, sliding window
    displayed_fps: float = 0.0  # frames painted per second
    stage_ms: dict[str, float] = field(default_factory=dict)  # capture/segment/refine/render medians
    device_label: str = ""  # e.g. "CPU fp32 — no GPU found"
    variant: str = ""  # model variant used for the last frame
    frame_size: tuple[int, int] = (0, 0)  # (width, height) of the source frames
    source_name: str = ""
    virtual_camera: str = ""  # the device frames are sent to ("" when off)
    virtual_camera_fps: float = 0.0  # frames sent per second


def format_hud(stats: HudStats) -> list[str]:
    """The HUD's lines, e.g. ["32.4 fps (shown 31.9)", "capture 3.1 · segment 12.0 ...", ...]."""
    lines = [f"{stats.fps:5.1f} fps  (shown {stats.displayed_fps:4.1f})"]
    parts = []
    for stage in STAGES:
        ms = stats.stage_ms.get(stage, math.nan)
        parts.append(f"{stage} {'–' if math.isnan(ms) else f'{ms:.1f}'}")
    lines.append(" · ".join(parts) + " ms")
    if stats.device_label:
        lines.append(stats.device_label)
    model = f"model: {stats.variant}" if stats.variant else "model: –"
    width, height = stats.frame_size
    if width and height:
        model += f"  ·  {width}x{height}"
    lines.append(model)
    if stats.source_name:
        lines.append(f"source: {stats.source_name}")
    if stats.virtual_camera:
        lines.append(f"virtual camera: {stats.virtual_camera}  ·  {stats.virtual_camera_fps:.1f} fps sent")
    return lines


class HudOverlay(QWidget):
    """A translucent box in the view's top-left corner; transparent to the mouse."""

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, True)
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground, True)
        font = QFontDatabase.systemFont(QFontDatabase.SystemFont.FixedFont)
        font.setPointSizeF(max(9.0, font.pointSizeF()))
        self.setFont(font)
        self._lines: list[str] = format_hud(HudStats())
        self._last_refresh = -math.inf
        self._relayout()

    @property
    def lines(self) -> list[str]:
        return list(self._lines)

    def set_stats(self, stats: HudStats, *, force: bool = False) -> None:
        """Take new numbers; the text changes at most REFRESH_HZ times a second unless forced."""
        now = time.monotonic()
        if not force and now - self._last_refresh < 1.0 / REFRESH_HZ:
            return
        self._last_refresh = now
        lines = format_hud(stats)
        if lines != self._lines:
            self._lines = lines
            self._relayout()
            self.update()

    def _relayout(self) -> None:
        metrics = self.fontMetrics()
        width = max(metrics.horizontalAdvance(line) for line in self._lines) + 20
        height = metrics.lineSpacing() * len(self._lines) + 14
        self.setGeometry(QRect(QPoint(10, 10), QRect(0, 0, width, height).size()))

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt override)
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(QColor(0, 0, 0, 160))
        painter.drawRoundedRect(self.rect(), 8, 8)
        painter.setFont(QFont(self.font()))
        painter.setPen(QColor(235, 235, 235))
        metrics = painter.fontMetrics()
        y = 7 + metrics.ascent()
        for line in self._lines:
            painter.drawText(10, y, line)
            y += metrics.lineSpacing()
        painter.end()
