"""Native libraries' stderr while models load: chatter to the debug log, the rest kept."""

from __future__ import annotations

import subprocess
import sys
import textwrap

from redactor.native import ANSI_COLOUR
from tests.support import ROOT

#: Lines in the formats TensorFlow Lite, absl and ONNX Runtime (plain and in colour) print,
#: and two that are not.
OUTPUT = (
    "INFO: Created TensorFlow Lite XNNPACK delegate for CPU.\n"
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "W0000 00:00:1796224653.799547   10765 inference_feedback_manager.cc:114] Feedback.\n"
    "2026-12-02 15:20:01.123456 [W:onnxruntime:, graph.cc:1] Removing initializer.\n"
    "\x1b[0;93m2026-12-03 09:28:52.883249023 [W:onnxruntime:Default, state.cc:856 f] No EP.\x1b[m\n"
    "E0000 00:00:1796224653.799547   10765 model.cc:12] Could not open the model.\n"
    "something else entirely\n"
)


def _run(level: str) -> str:
    script = textwrap.dedent(
        f"""
        import os
        from redactor.logs import configure_logging
        from redactor.native import native_chatter_logged
        configure_logging("text", "{level}")
        with native_chatter_logged("probe"):
            os.write(2, {OUTPUT.encode()!r})
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, cwd=ROOT, timeout=60
    )
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_given_default_verbosity_then_only_errors_and_unknown_lines_reach_stderr() -> None:
    assert _run("WARNING") == (
        "E0000 00:00:1796224653.799547   10765 model.cc:12] Could not open the model.\n"
        "something else entirely\n"
    )


def test_given_debug_then_the_chatter_is_logged_under_redactor_native() -> None:
    lines = _run("DEBUG").splitlines()
    native = [
        line.split("DEBUG redactor.native: probe: ", 1)[1] for line in lines if "DEBUG" in line
    ]
    assert native == [ANSI_COLOUR.sub("", line) for line in OUTPUT.splitlines()[:5]]
    assert lines[-2:] == OUTPUT.splitlines()[5:]
