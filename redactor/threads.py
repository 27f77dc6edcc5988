"""CPU thread limits, so N worker processes on N cores do not oversubscribe them."""

from __future__ import annotations

import os
import sys

_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
_limit: int | None = None


def limit_threads(threads: int) -> None:
    """Limit the native thread pools of this process to ``threads``.

    Call before the models load: OpenMP reads its settings then, and pipelines built
    afterwards pass the same limit to the OCR engine (ONNX Runtime takes it per session).
    """
    global _limit
    _limit = threads
    for var in _ENV_VARS:
        os.environ[var] = str(threads)
    import cv2

    cv2.setNumThreads(threads)
    torch = sys.modules.get("torch")  # only loaded by the EasyOCR engine; never import it here
    if torch is not None:
        torch.set_num_threads(threads)


def current_limit() -> int | None:
    """The limit set by :func:`limit_threads` in this process, if any."""
    return _limit
