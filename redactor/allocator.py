"""glibc's allocator told to keep large image buffers, for processes that redact.

A 12 MP image passes through many full-size temporaries (the decoded frame, its copy for
the detectors, grey and shrunk copies, the redacted frame, encoder buffers). glibc gives
every allocation above its mmap threshold (dynamic, at most 32 MiB) pages of its own and
returns them on free, so each new buffer is faulted in and zeroed by the kernel again: on
the benchmark's 4000x3000 scenes 10,000-20,000 page faults and 40-75 ms of system time an
image. With the threshold at glibc's maximum and freed memory kept (trim threshold and top
pad), buffers up to 32 MiB are reused from the heap: about 3,500 faults and 10-15 ms, and
3-5 % less wall time an image at 12 MP (docs/benchmarks.md, "Bilinear pyramid levels over
4 MP"). The price is resident memory that stays near the process's peak instead of
falling between images; the peak itself does not grow.

Called by the front doors' processes (the CLI, in its own process or its workers; the
queue's worker processes; the benchmark), never by the library on import: an
application embedding redactor keeps its own allocator settings. Operators who set
``MALLOC_*`` variables or ``GLIBC_TUNABLES`` keep theirs too.
"""

from __future__ import annotations

import ctypes
import logging
import os
import sys

log = logging.getLogger(__name__)

#: mallopt parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_TOP_PAD = -2
M_MMAP_THRESHOLD = -3
MIB = 1 << 20
#: glibc's largest mmap threshold on 64-bit systems.
MMAP_THRESHOLD = 32 * MIB
TRIM_THRESHOLD = 256 * MIB
TOP_PAD = 64 * MIB
SETTINGS = (
    (M_MMAP_THRESHOLD, MMAP_THRESHOLD),
    (M_TRIM_THRESHOLD, TRIM_THRESHOLD),
    (M_TOP_PAD, TOP_PAD),
)
#: Environment variables through which an operator sets glibc's allocator.
OPERATOR_VARIABLES = (
    "MALLOC_MMAP_THRESHOLD_",
    "MALLOC_TRIM_THRESHOLD_",
    "MALLOC_TOP_PAD_",
    "GLIBC_TUNABLES",
)


def keep_large_buffers() -> bool:
    """Tune glibc's allocator for this process (see the module docstring); whether it
    was tuned: not off Linux or glibc, nor when the operator set it already."""
    if not sys.platform.startswith("linux"):
        return False
    if any(os.environ.get(name) for name in OPERATOR_VARIABLES):
        log.debug("allocator left as the environment sets it")
        return False
    try:
        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # another C library (musl) or none to load
        return False
    mallopt.argtypes = (ctypes.c_int, ctypes.c_int)
    mallopt.restype = ctypes.c_int
    tuned = all(mallopt(parameter, value) == 1 for parameter, value in SETTINGS)
    if not tuned:
        log.warning("glibc refused an allocator setting; large buffers are not kept")
    return tuned
