"""OpenCV's log level, set once per process before any thread starts.

OpenCV logs its own warnings when a camera does not open ("can't open camera by index", one per
backend it tried); our callers report that in one line of their own. The level is process-wide:
saving and restoring it around each camera open raced between the camera-probe thread and the
camera open, and a stray `[ WARN ...]` line still reached the terminal now and then.
"""

from __future__ import annotations


def quiet_opencv_log() -> None:
    """OpenCV logs errors only, from now on (call at startup: the CLI's main, the window's launch)."""
    import cv2

    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
