"""Is there an NVIDIA GPU? Answered through the CUDA driver library, without importing torch.

`--device auto` asks this first: on a machine without an NVIDIA driver the answer is "no" in
about a millisecond and torch (~1.3 s, ~300 MB) is never loaded. Only when the driver reports a
device does the segmenter import torch and ask `torch.cuda.is_available()` for the final word
(the torch build may lack CUDA, or not support the card).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os

# Set to "0" to make the probe report no GPU (tests, or to force the CPU path under "auto").
PROBE_ENV = "SILHOUETTE_CAM_CUDA_PROBE"
_LIBRARY_NAMES = ("libcuda.so.1", "libcuda.so", "nvcuda.dll", "libcuda.dylib")


def _load_driver() -> ctypes.CDLL | None:
    names = list(_LIBRARY_NAMES)
    found = ctypes.util.find_library("cuda")
    if found:
        names.insert(0, found)
    for name in names:
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    return None


def cuda_device_count() -> int:
    """Number of CUDA devices the NVIDIA driver reports; 0 when there is no driver or it fails."""
    if os.environ.get(PROBE_ENV) == "0":
        return 0
    driver = _load_driver()
    if driver is None:
        return 0
    try:
        if driver.cuInit(0) != 0:  # CUDA_SUCCESS is 0; e.g. 100 = no device, 35 = driver too old
            return 0
        count = ctypes.c_int(0)
        if driver.cuDeviceGetCount(ctypes.byref(count)) != 0:
            return 0
        return int(count.value)
    except AttributeError:  # a library named libcuda without the driver API
        return 0


def has_cuda_gpu() -> bool:
    """True when the NVIDIA driver reports at least one CUDA device (torch not consulted)."""
    return cuda_device_count() > 0
