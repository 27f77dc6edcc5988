"""A batch worker function that dies, as the OOM killer or a decoder crash would make it.

Used by ``BatchRunner(work=...)`` in the tests: spawned worker processes import it by
name. A file whose name starts with ``poison`` kills the process redacting it (SIGKILL,
no clean-up, no exception), every time; any other file is redacted normally.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path

from redactor.batch import FileResult, _redact_in_worker


def redact_or_die(source: str) -> FileResult:
    if Path(source).name.startswith("poison"):
        os.kill(os.getpid(), signal.SIGKILL)
    return _redact_in_worker(source)
