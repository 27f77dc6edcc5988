"""CPU thread limits, so N worker processes on N cores do not oversubscribe them."""

from __future__ import annotations

import os
import sys

_ENV_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "ORT_NUM_THREADS")


def limit_threads(threads: int) -> None:
    """Limit the native thread pools of this process to ``threads``.

    Call before the models load: ONNX Runtime and OpenMP read their settings then.
    """
    for var in _ENV_VARS:
        os.environ[var] = str(threads)
    import cv2

    cv2.setNumThreads(threads)
    torch = sys.modules.get("torch")  # only loaded by the EasyOCR engine; never import it here
    if torch is not None:
        torch.set_num_threads(threads)
