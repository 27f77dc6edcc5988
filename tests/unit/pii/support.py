"""Helpers for the recognizer tables."""

from __future__ import annotations

from redactor.pii.base import Recognizer


def found(recognizer: Recognizer, text: str) -> list[str]:
    """The texts of all matches of ``recognizer`` in ``text``."""
    return [text[m.start : m.end] for m in recognizer.find(text)]


def rules(recognizer: Recognizer, text: str) -> set[str]:
    return {m.rule for m in recognizer.find(text)}
