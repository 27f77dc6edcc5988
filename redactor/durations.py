"""Durations in settings: a number of seconds (``0``, ``86400``) or ISO 8601 (``PT24H``).

Years and months are refused: they have no fixed length, and a retention window must
mean the same number of seconds on every host (``P30D``, not ``P1M``).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

ACCEPTED_FORMS = "seconds (0, 86400) or an ISO 8601 duration (PT24H, P30D, P1DT12H)"

_SECONDS = re.compile(r"\d+(?:\.\d+)?")
_ISO = re.compile(
    r"P(?:(?P<weeks>\d+)W)?(?:(?P<days>\d+)D)?"
    r"(?:T(?=\d)(?:(?P<hours>\d+)H)?(?:(?P<minutes>\d+)M)?(?:(?P<seconds>\d+(?:\.\d+)?)S)?)?",
    re.IGNORECASE,
)
_CALENDAR = re.compile(r"P(?:\d+Y)?(?:\d+M)?", re.IGNORECASE)


def parse_duration(value: object) -> timedelta:
    """A non-negative duration from seconds (number or text) or ISO 8601 text.

    Raises ``ValueError`` naming the accepted forms for anything else.
    """
    if isinstance(value, timedelta):
        if value < timedelta(0):
            raise ValueError(f"a duration cannot be negative; use {ACCEPTED_FORMS}")
        return value
    if isinstance(value, bool):
        raise ValueError(f"not a duration; use {ACCEPTED_FORMS}")
    if isinstance(value, int | float):
        return _from_seconds(float(value))
    if isinstance(value, str):
        text = value.strip()
        if _SECONDS.fullmatch(text.removeprefix("-")):
            return _from_seconds(float(text))
        iso = _ISO.fullmatch(text)
        if iso and text.upper() not in {"P", "PT"}:
            parts = {name: float(n) for name, n in iso.groupdict().items() if n is not None}
            return _checked(lambda: timedelta(**parts))
        if text[:1].upper() == "P" and _CALENDAR.match(text).end() > 1:  # type: ignore[union-attr]
            raise ValueError("years and months have no fixed length; use days, e.g. P30D")
    raise ValueError(f"not a duration; use {ACCEPTED_FORMS}")


def _from_seconds(seconds: float) -> timedelta:
    if math.isnan(seconds):
        raise ValueError(f"not a duration; use {ACCEPTED_FORMS}")
    if seconds < 0:
        raise ValueError(f"a duration cannot be negative; use {ACCEPTED_FORMS}")
    return _checked(lambda: timedelta(seconds=seconds))


def _checked(make: Callable[[], timedelta]) -> timedelta:
    try:
        return make()
    except OverflowError:
        raise ValueError(f"too long a duration; use {ACCEPTED_FORMS}") from None


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError(f"must be longer than 0; use {ACCEPTED_FORMS}")
    return value


#: A setting that is a duration, 0 allowed.
Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
#: A setting that is a duration longer than 0.
PositiveDuration = Annotated[timedelta, BeforeValidator(parse_duration), AfterValidator(_positive)]
