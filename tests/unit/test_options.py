"""PipelineOptions: styles checked against the style registry, and the CLI's options derived
from the model (one source for every default, bound and choice)."""

from __future__ import annotations

from typing import get_args

import click
import pytest
from pydantic import ValidationError

from redactor.cli.redact import redact
from redactor.options import DEFAULT_STYLES, IccMode, Limits, PipelineOptions, TextPolicy
from redactor.styles import STYLE_FAMILIES, STYLES


@pytest.mark.parametrize(
    "styles",
    [
        {"face": "pixelate"},
        {"pii.email": "blur", "code.qr": "fill"},
        {"text": "blur", "pii.national_id": "pixelate"},
        dict.fromkeys(STYLE_FAMILIES, "fill"),
    ],
)
def test_given_known_kinds_and_styles_then_options_take_them(styles: dict[str, str]) -> None:
    assert PipelineOptions(styles=styles).styles == {**DEFAULT_STYLES, **styles}


@pytest.mark.parametrize(
    ("styles", "complaint"),
    [
        (
            {"face": "smudge"},
            "unknown redaction style 'smudge'; choose one of: blur, pixelate, fill",
        ),
        ({"pii": "blur"}, "cannot set a style for 'pii'"),
        ({"faces": "blur"}, "cannot set a style for 'faces'"),
        ({"pii.Email": "blur"}, "cannot set a style for 'pii.Email'"),
        ({"x" * 500: "blur"}, "cannot set a style for '" + "x" * 40 + "'"),
    ],
)
def test_given_unknown_kind_or_style_then_options_refuse_naming_the_choices(
    styles: dict[str, str], complaint: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        PipelineOptions(styles=styles)
    message = caught.value.errors()[0]["msg"]
    assert complaint in message
    assert "x" * 41 not in message  # a long value is never echoed whole


def test_given_a_style_for_every_family_then_every_finding_kind_has_a_style() -> None:
    options = PipelineOptions()
    assert set(options.styles) == set(STYLE_FAMILIES) == set(DEFAULT_STYLES)
    assert all(options.styles[family] in STYLES for family in STYLE_FAMILIES)


def _cli_option(name: str) -> click.Option:
    return next(p for p in redact.params if isinstance(p, click.Option) and name in p.opts)


@pytest.mark.parametrize(
    ("flag", "field", "model"),
    [
        ("--face-threshold", "face_threshold", PipelineOptions),
        ("--min-face", "min_face_px", PipelineOptions),
        ("--ocr-detection-side", "ocr_detection_side", PipelineOptions),
        ("--face-scale", "face_mask_scale", PipelineOptions),
        ("--jpeg-quality", "jpeg_quality", PipelineOptions),
        ("--max-pixels", "max_pixels", Limits),
    ],
)
def test_given_cli_option_then_its_default_and_bounds_are_the_models(
    flag: str, field: str, model: type[PipelineOptions] | type[Limits]
) -> None:
    option = _cli_option(flag)
    info = model.model_fields[field]
    assert option.default == info.default
    bounds = {type(rule).__name__: rule for rule in info.metadata}
    assert isinstance(option.type, click.IntRange | click.FloatRange)
    if "Ge" in bounds:
        assert option.type.min == bounds["Ge"].ge
    if "Gt" in bounds:
        assert option.type.min == bounds["Gt"].gt + 1
    if "Le" in bounds:
        assert option.type.max == bounds["Le"].le


def test_given_cli_choices_then_they_are_the_models_literals() -> None:
    text, icc = _cli_option("--text"), _cli_option("--icc")
    assert isinstance(text.type, click.Choice) and isinstance(icc.type, click.Choice)
    assert tuple(text.type.choices) == get_args(TextPolicy)
    assert tuple(icc.type.choices) == get_args(IccMode)
    assert (text.default, icc.default) == (PipelineOptions().text, PipelineOptions().icc)
    assert _cli_option("--max-file-mb").default * 1024 * 1024 == Limits().max_file_bytes
    style_help = _cli_option("--style").help or ""
    assert f"Styles: {', '.join(STYLES)}." in style_help
