"""Work around PySide6 6.12.0 on Python < 3.12: its bindings return None / True / False without
taking a reference (fine on 3.12+, where those objects are immortal). Every `widget.update()`,
`painter.drawImage(...)`, `label.setText(...)` (None) and every Python `signal.emit(...)` (True)
then drops one reference, and after a few thousand calls CPython aborts with "Fatal Python error:
none_dealloc: deallocating None" — within seconds of live video.

The fix does what Python 3.12 does: give these singletons a reference count they can never run
out of. They are static objects that are never freed, so an inflated count costs nothing.
"""

from __future__ import annotations

import ctypes
import sys

_HEADROOM = 1 << 48  # ~2.8e14 calls: centuries at thousands of Qt calls per second


def make_singletons_immortal() -> bool:
    """Raise the refcount of None, True, False, Ellipsis, NotImplemented; True if anything changed."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False  # already immortal there (PEP 683); other runtimes do not count references
    changed = False
    for singleton in (None, True, False, Ellipsis, NotImplemented):
        refcount = ctypes.c_ssize_t.from_address(id(singleton))  # ob_refcnt: the first field of PyObject
        if refcount.value < _HEADROOM:
            refcount.value += _HEADROOM
            changed = True
    return changed
