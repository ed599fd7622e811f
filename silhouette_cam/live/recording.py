"""Recording and snapshots: a FrameSink on the runner's writer thread; requests come from the GUI.

The GUI asks (`request_start(path)`, `request_stop()`, `request_snapshot(path)`) from its thread; the
writer thread calls `write(frame)` for each rendered frame while `wants_frames` (recording, or a
request pending: no copies otherwise), which opens the recorder lazily (it needs the frame's size),
writes the rendered output with the source's timestamp, and saves pending snapshots. `close()`
finishes the file. Outcomes are reported through the callbacks (the worker wires them to its
signals). A write that fails (disk full) stops the recording and reports it as an error, with how
many frames were written (they stay playable); a recording that cannot start is reported the same
way, never as saved. Frames of another size than the recording's (a camera that changed resolution)
are fitted (letterboxed) into it, said once per size. The recorder gets the source's time base, so
a 24 fps file records at exactly 24 fps. A transparent cutout is recorded with alpha where the container can hold it
(frame_sinks.keeps_alpha), else on its checkerboard as shown.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from silhouette_cam.errors import describe, warn
from silhouette_cam.frame_sinks import frame_pixels, keeps_alpha


def _open_recorder(path: Path, fps: float, size: tuple[int, int], alpha: bool, time_base: Any = None) -> Any:
    from silhouette_cam.sinks import VideoRecorder

    return VideoRecorder(path, fps=fps, size=size, alpha=alpha, time_base=time_base)


def _save_snapshot(path: Path, image: np.ndarray) -> None:
    from silhouette_cam.sinks import save_snapshot

    save_snapshot(path, image)


class RecordingControl:
    """See the module docstring; `open_recorder(path, fps, size, alpha)`, `save_snapshot` injectable."""

    def __init__(
        self,
        *,
        on_started: Callable[[str, str], None],  # (path, codec)
        on_stopped: Callable[[str, int, str], None],  # (path, frames written, problem; "" when saved fine)
        on_snapshot: Callable[[str], None],  # (path)
        on_error: Callable[[str], None],  # one-line message
        on_notice: Callable[[str], None] = lambda text: None,  # one-line information (frames fitted)
        open_recorder: Callable[..., Any] | None = None,  # default: VideoRecorder
        save_snapshot: Callable[[Path, np.ndarray], None] | None = None,  # default: sinks.save_snapshot
    ) -> None:
        self._on_started, self._on_stopped = on_started, on_stopped
        self._on_snapshot, self._on_error, self._on_notice = on_snapshot, on_error, on_notice
        # Looked up when used (not bound here), so a test can replace the module's defaults.
        self._open_recorder = open_recorder or (lambda *args: _open_recorder(*args))
        self._save_snapshot = save_snapshot or (lambda path, image: _save_snapshot(path, image))
        self._lock = threading.Lock()
        self._start_path: Path | None = None
        self._stop_requested = False
        self._snapshot_paths: list[Path] = []
        self._recorder: Any = None
        self._path: Path | None = None
        self._alpha = False
        self._size: tuple[int, int] = (0, 0)  # (width, height) the recording was opened with
        self._fitted: set[tuple[int, int]] = set()  # frame sizes already said to be fitted
        self.fps = 30.0  # the source's rate (the worker sets it when a source opens)
        self.time_base: Any = None  # the source's time base (Fraction; None: milliseconds)

    @property
    def recording(self) -> bool:
        return self._recorder is not None

    # -- any thread -----------------------------------------------------------------------------
    def request_start(self, path: str | Path) -> None:
        with self._lock:
            self._start_path, self._stop_requested = Path(path), False

    def request_stop(self) -> None:
        with self._lock:
            self._start_path, self._stop_requested = None, True

    def request_snapshot(self, path: str | Path) -> None:
        with self._lock:
            self._snapshot_paths.append(Path(path))

    @property
    def wants_frames(self) -> bool:
        """True while recording or with a request pending (the writer skips copies otherwise)."""
        with self._lock:
            pending = self._start_path is not None or self._stop_requested or bool(self._snapshot_paths)
        return pending or self._recorder is not None

    # -- the writer thread ----------------------------------------------------------------------
    def write(self, frame: Any) -> None:
        """One rendered ProcessedFrame (an owned copy): image [H, W, 3] RGB, rgba [H, W, 4] or None."""
        image, rgba = frame.image, frame.rgba
        with self._lock:
            start_path, self._start_path = self._start_path, None
            stop, self._stop_requested = self._stop_requested, False
            snapshots, self._snapshot_paths = self._snapshot_paths, []
        if stop or (start_path is not None and self._recorder is not None):
            self.finish()
        if start_path is not None:
            self._start(start_path, image, keeps_alpha(start_path, transparent=rgba is not None))
        if self._recorder is not None:
            try:
                self._recorder.write(self._fit(frame_pixels(frame, self._alpha)), frame.timestamp_s)
            except Exception as exc:  # noqa: BLE001 — e.g. disk full: stop recording, keep the view
                frames = int(getattr(self._recorder, "frames_written", 0))
                kept = (f"the {frames} frames written before are kept in {self._path}" if frames
                        else f"nothing was recorded in {self._path}")
                self.finish(problem=f"recording stopped: {describe(exc)} — {kept}")
        for path in snapshots:
            self._snapshot(path, rgba if rgba is not None else image)

    def close(self) -> None:
        """The writer is done with this sink: finish the file (requests stay for a later writer)."""
        self.finish()

    def finish(self, problem: str = "") -> None:
        """Close the current recording (if any) so the file is complete; reports how many frames it
        holds, and `problem` (an error: why it stopped) or one found closing it."""
        recorder, path = self._recorder, self._path
        self._recorder, self._path = None, None
        if recorder is None:
            return
        frames = int(getattr(recorder, "frames_written", 0))
        try:
            recorder.close()
        except Exception as exc:  # noqa: BLE001
            problem = problem or f"recording {path} may be incomplete ({frames} frames): {describe(exc)}"
        if not problem and frames == 0:
            problem = f"recording {path} holds no frames"
        self._stopped(path, frames, problem)

    def _stopped(self, path: Path, frames: int, problem: str) -> None:
        if problem:
            self._on_error(problem)
        self._on_stopped(str(path), frames, problem)

    def _fit(self, pixels: np.ndarray) -> np.ndarray:
        """A frame of another size (beyond the recorder's own 1-pixel even-size crop) letterboxed into
        the recording's size, said once per size: a resolution change never stops a recording."""
        width, height = self._size
        got = (pixels.shape[1], pixels.shape[0])
        if abs(got[0] - width) <= 1 and abs(got[1] - height) <= 1:
            return pixels
        if got not in self._fitted:
            self._fitted.add(got)
            frame = int(getattr(self._recorder, "frames_written", 0))
            text = (f"recording {self._path}: frame {frame} is {got[0]}x{got[1]}, the recording is "
                    f"{width}x{height}; frames of this size are fitted (letterboxed) into it")
            warn(text)
            self._on_notice(text)
        from silhouette_cam.sources import fit_frame

        return fit_frame(pixels, (width, height))

    def _start(self, path: Path, image: np.ndarray, alpha: bool) -> None:
        height, width = image.shape[:2]
        try:  # (the recorder makes its folder, naming a file in the way)
            self._recorder = self._open_recorder(path, self.fps, (width, height), alpha, self.time_base)
            self._alpha = alpha
        except Exception as exc:  # noqa: BLE001 — any failure here is reported, never fatal to the view
            self._stopped(path, 0, f"cannot record to {path}: {describe(exc, name_file=False)}")
            return
        self._path, self._size, self._fitted = path, (width, height), set()
        self._on_started(str(path), str(getattr(self._recorder, "codec", "")))

    def _snapshot(self, path: Path, image: np.ndarray) -> None:
        try:  # (save_snapshot makes its folder)
            self._save_snapshot(path, image)
        except Exception as exc:  # noqa: BLE001
            self._on_error(f"cannot save snapshot {path}: {exc}")
            return
        self._on_snapshot(str(path))
