"""Durations in settings: seconds or ISO 8601, and one clear line for anything else."""

from __future__ import annotations

from datetime import timedelta

import pytest

from redactor.durations import ACCEPTED_FORMS, parse_duration


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0", timedelta(0)),
        ("86400", timedelta(days=1)),
        (" 60 ", timedelta(minutes=1)),
        ("1.5", timedelta(seconds=1.5)),
        (0, timedelta(0)),
        (3600, timedelta(hours=1)),
        (2.5, timedelta(seconds=2.5)),
        ("PT0S", timedelta(0)),
        ("PT24H", timedelta(hours=24)),
        ("pt24h", timedelta(hours=24)),
        ("P30D", timedelta(days=30)),
        ("P1DT12H", timedelta(days=1, hours=12)),
        ("PT1H30M", timedelta(hours=1, minutes=30)),
        ("PT0.5S", timedelta(seconds=0.5)),
        ("P2W", timedelta(weeks=2)),
        (timedelta(hours=2), timedelta(hours=2)),
    ],
)
def test_given_seconds_or_iso_8601_then_parsed(value: object, expected: timedelta) -> None:
    assert parse_duration(value) == expected


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ("24h", "not a duration"),
        ("1 day", "not a duration"),
        ("", "not a duration"),
        ("P", "not a duration"),
        ("PT", "not a duration"),
        ("P1DT", "not a duration"),
        ("1e3", "not a duration"),
        (True, "not a duration"),
        (None, "not a duration"),
        (float("nan"), "not a duration"),
        ("-1", "cannot be negative"),
        (-5, "cannot be negative"),
        (timedelta(seconds=-1), "cannot be negative"),
        ("P1M", "years and months have no fixed length"),
        ("P1Y2D", "years and months have no fixed length"),
        ("9" * 20, "too long"),
        ("P99999999999D", "too long"),
    ],
)
def test_given_anything_else_then_the_error_says_what_is_accepted(
    value: object, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem) as caught:
        parse_duration(value)
    assert "\n" not in str(caught.value)
    if "years" not in problem:
        assert ACCEPTED_FORMS in str(caught.value)
