"""``--ocr-precision {fp32,int8,int8-proposal}``: defined once, for ``redactor redact``
(click) and the benchmarks (click in ``bench.speed``, argparse in ``bench.eval`` and
``bench.real_documents``). Choices and default are ``PipelineOptions.ocr_precision``'s own.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any, TypeVar, cast, get_args

import click

from redactor.options import PipelineOptions
from redactor.text.ocr import Precision

FLAG = "--ocr-precision"
#: The accepted values, the default first.
CHOICES: tuple[str, ...] = get_args(Precision)
DEFAULT: Precision = PipelineOptions.model_fields["ocr_precision"].get_default()
HELP = (
    "RapidOCR's text detector: int8-proposal, a quantised copy in two-scale detection's "
    "first pass only (where to look; about half its time) and the float network where "
    "lines are found; fp32, the float network in both; int8, the quantised copy in both, "
    "3-5x faster per call on CPUs with VNNI but it may miss small print (a 12 px phone "
    "number) the float one finds. Recognition is float either way; EasyOCR has no "
    "quantised model (int8 with it is refused; int8-proposal is fp32 there)."
)

_F = TypeVar("_F", bound=Callable[..., Any])


def click_option() -> Callable[[_F], _F]:
    """The option for a click command; the value arrives as ``ocr_precision``."""
    return click.option(
        FLAG,
        "ocr_precision",
        type=click.Choice(CHOICES),
        default=DEFAULT,
        show_default=True,
        help=HELP,
    )


def add_argument(parser: argparse.ArgumentParser) -> None:
    """The option for an argparse parser; the value arrives as ``args.ocr_precision``."""
    parser.add_argument(
        FLAG,
        dest="ocr_precision",
        choices=CHOICES,
        default=DEFAULT,
        help=HELP.replace("%", "%%") + f" Default: {DEFAULT}.",
    )


def precision(value: str) -> Precision:
    """A value the option accepted, typed."""
    if value not in CHOICES:
        raise ValueError(f"unknown OCR precision {value!r}; choose one of: {', '.join(CHOICES)}")
    return cast(Precision, value)
