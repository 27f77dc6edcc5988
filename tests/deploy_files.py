"""Reading compose.yaml as ``docker compose`` would, for the tests of the deploy files.

Only the interpolation forms the file uses are understood (``${NAME:?message}`` from the
example .env, and ``$$`` for a literal ``$``); anything else fails the tests, so the file
cannot grow a form these tests would misread.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from tests.support import ROOT

COMPOSE = ROOT / "compose.yaml"
ENV_EXAMPLE = ROOT / "deploy" / "compose.env.example"
REDACTOR_SERVICES = ("api", "worker", "retention", "beat")
_REQUIRED = re.compile(r"\$\{(?P<name>\w+):\?[^}]*\}")


def example_env() -> dict[str, str]:
    lines = ENV_EXAMPLE.read_text().splitlines()
    pairs = [line.split("=", 1) for line in lines if line and not line.startswith("#")]
    return {name: value for name, value in pairs}


def interpolate(text: str, env: dict[str, str]) -> str:
    text = _REQUIRED.sub(lambda m: env[m["name"]], text)
    assert "${" not in text.replace("$${", ""), (
        "compose.yaml uses an interpolation form not read here"
    )
    return text.replace("$$", "$")


def compose() -> dict[str, Any]:
    """compose.yaml with the example .env interpolated."""
    data: dict[str, Any] = yaml.safe_load(interpolate(COMPOSE.read_text(), example_env()))
    return data


def service_env(service: dict[str, Any]) -> dict[str, str]:
    return {name: str(value) for name, value in service.get("environment", {}).items()}


def healthcheck_argv(service: dict[str, Any]) -> list[str]:
    """The health check as an argv (``CMD-SHELL`` runs under ``sh -c``)."""
    kind, *rest = service["healthcheck"]["test"]
    if kind == "CMD-SHELL":
        return ["sh", "-c", *rest]
    assert kind == "CMD"
    return list(rest)


def dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()
