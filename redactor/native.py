"""What native libraries write straight to stderr while models load, sorted out.

TensorFlow Lite (inside MediaPipe), absl and ONNX Runtime print start-up chatter on file
descriptor 2 ("INFO: Created TensorFlow Lite XNNPACK delegate for CPU.", "W0000 ...
inference_feedback_manager.cc:114] ..."), past Python's logging and regardless of
``GLOG_minloglevel`` / ``TF_CPP_MIN_LOG_LEVEL`` in the versions pinned here. They speak
while a model is built, so :func:`native_chatter_logged` points descriptor 2 at a
temporary file for that long. Afterwards, lines in those libraries' formats at info or
warning level are logged at DEBUG on ``redactor.native`` (shown with ``-vv``); anything
else, errors included, is written to stderr as it was.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager

log = logging.getLogger(__name__)

#: Info and warning lines of TensorFlow Lite, absl/glog and ONNX Runtime.
CHATTER = re.compile(
    r"(?:INFO|WARNING): (?:Created TensorFlow Lite|All log messages before absl::)"
    r"|[IW]\d{4} [\d:. ]+\d+ [\w.-]+:\d+\]"
    r"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d+ \[[IVW]:onnxruntime:"
)

#: The colour codes ONNX Runtime wraps its lines in when stderr was a terminal at start.
ANSI_COLOUR = re.compile(r"\x1b\[[\d;]*m")

_lock = threading.Lock()


@contextmanager
def native_chatter_logged(what: str) -> Iterator[None]:
    """Run the block with stderr captured; chatter goes to the debug log, the rest back."""
    with _lock, tempfile.TemporaryFile() as capture:
        sys.stderr.flush()
        saved = os.dup(2)
        os.dup2(capture.fileno(), 2)
        try:
            yield
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            capture.seek(0)
            _sort(what, capture.read().decode(errors="replace"))


def _sort(what: str, output: str) -> None:
    passed = []
    for line in output.splitlines(keepends=True):
        plain = ANSI_COLOUR.sub("", line)
        if CHATTER.match(plain):
            log.debug("%s: %s", what, plain.rstrip())
        else:
            passed.append(line)
    if passed:
        sys.stderr.write("".join(passed))
        sys.stderr.flush()
