"""Errors the user can act on (beyond ValueError/TypeError/OSError for bad input)."""


class DeviceError(RuntimeError):
    """The requested compute device failed (e.g. a CUDA driver or kernel error); the message says how."""
