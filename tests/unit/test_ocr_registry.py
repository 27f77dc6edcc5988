"""One registry of OCR engines: the interface does not import it, the options and CLI read it."""

from __future__ import annotations

import ast
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from pydantic import ValidationError

import redactor.text.ocr
from redactor.cli.main import cli
from redactor.cli.redact import redact
from redactor.errors import ConfigError
from redactor.options import PipelineOptions
from redactor.text.engines import ENGINES, create_engine


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = {
        alias.name
        for node in ast.walk(tree)
        if isinstance(node, ast.Import)
        for alias in node.names
    }
    found |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    return found


def test_the_ocr_interface_imports_no_engine() -> None:
    imported = _imported_modules(Path(redactor.text.ocr.__file__))
    assert not [m for m in imported if m.startswith("redactor.text.engines")]


def test_given_an_engine_outside_the_registry_then_options_refuse_it_with_the_choices() -> None:
    with pytest.raises(ValidationError, match=", ".join(ENGINES)):
        PipelineOptions(ocr_engine="tesseract")
    assert PipelineOptions().ocr_engine == next(iter(ENGINES))
    schema = PipelineOptions.model_json_schema()["properties"]["ocr_engine"]
    assert schema["enum"] == list(ENGINES)


def test_the_cli_offers_the_registry_engines_and_refuses_others() -> None:
    (option,) = [p for p in redact.params if p.name == "ocr_engine"]
    assert isinstance(option.type, click.Choice)
    assert list(option.type.choices) == list(ENGINES)
    result = CliRunner().invoke(cli, ["redact", ".", "--out", "o", "--ocr-engine", "tesseract"])
    assert result.exit_code == 2


def test_given_an_unknown_engine_then_creating_it_is_a_config_error() -> None:
    with pytest.raises(ConfigError, match="choose one of"):
        create_engine("tesseract")
