"""The corpus is the same in every process: the scorer regenerates it rather than storing
personal strings, so a case that changed with Python's hash seed would be scored against
text it does not show."""

from __future__ import annotations

import os
import subprocess
import sys

from testkit.paths import ROOT

#: Every generated document layout (format and second language), the Italian one included:
#: Faker's it_IT city list is built from a set.
DIGESTS = """
import hashlib
from bench.corpus import DOCUMENT_LAYOUTS, document_case, text_case
print([hashlib.sha256(document_case(i, 7)[1]).hexdigest() for i in range(len(DOCUMENT_LAYOUTS))])
print([hashlib.sha256(document_case(i, 7, small=True)[1]).hexdigest() for i in range(2)])
print([hashlib.sha256(text_case(i, 7)[1]).hexdigest() for i in range(5)])
"""


def _digests(hash_seed: str) -> str:
    env = {**os.environ, "PYTHONHASHSEED": hash_seed, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", DIGESTS], env=env, cwd=ROOT, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def test_given_two_hash_seeds_then_the_generated_cases_are_the_same_bytes() -> None:
    assert _digests("1") == _digests("2")


def test_given_a_small_document_case_then_it_is_another_smaller_card() -> None:
    from bench.corpus import document_case

    usual, usual_bytes = document_case(1, 7)
    small, small_bytes = document_case(1, 7, small=True)
    usual_width = max(box.width for box in usual.ignore)
    small_width = max(box.width for box in small.ignore)
    assert small.id == "document-small-01" and small.attributes["small"] is True
    assert small_bytes != usual_bytes
    assert small_width < 0.7 * usual_width
