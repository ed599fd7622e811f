"""The desktop app: main window, live view, HUD, controls, settings, and the processing worker thread.

Only this package imports Qt; the pipeline, segmenter, sources and sinks know nothing of it.
"""

from .qt_compat import make_singletons_immortal

make_singletons_immortal()  # before any Qt call: see qt_compat (PySide6 6.12.0 on Python 3.11)
