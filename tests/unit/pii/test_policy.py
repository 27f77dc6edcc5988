from __future__ import annotations

import pytest

from redactor.errors import ConfigError
from redactor.pii.base import DENIED
from redactor.pii.policy import Policy, term_pattern


@pytest.mark.parametrize(
    ("term", "text", "expected"),
    [
        ("Ben & Jerry's", "BEN & JERRY'S Cookie Dough", "BEN & JERRY'S"),
        ("Ben & Jerry's", "Ben&Jerrys", "Ben&Jerrys"),  # OCR lost spaces and the apostrophe
        ("Ben", "Ben & Jerry's", "Ben"),
        ("Ben", "Benjamin Smith", None),  # whole words only
        ("ACME", "acme corp", "acme"),
    ],
)
def test_terms_match_as_ocr_prints_them(term: str, text: str, expected: str | None) -> None:
    m = term_pattern(term).search(text)
    assert (m.group() if m else None) == expected


def test_given_a_term_without_letters_then_the_policy_is_refused() -> None:
    with pytest.raises(ConfigError):
        Policy.build("pii", allow=["--"])


def test_given_allowed_words_then_only_those_are_kept() -> None:
    policy = Policy.build("all", allow=["Ben & Jerry's"])
    text = "Ben & Jerry's Chunky Monkey"
    spans = [(0, 3), (4, 5), (6, 13), (14, 20), (21, 27)]
    assert policy.kept_words(text, spans) == [True, True, True, False, False]


def test_given_a_term_both_allowed_and_denied_then_deny_wins() -> None:
    policy = Policy.build("pii", allow=["ACME"], deny=["ACME"])
    assert policy.kept_words("ACME", [(0, 4)]) == [False]
    assert [(m.start, m.end, m.kind) for m in policy.denied("by ACME")] == [(3, 7, DENIED)]
