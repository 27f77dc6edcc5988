"""``redactor models``: list and verify the model weight files."""

from __future__ import annotations

import sys

import click
from rich.console import Console
from rich.table import Table


@click.group()
def models() -> None:
    """Inspect the model weight files the pipeline uses (never downloads anything)."""


@models.command("verify")
def verify() -> None:
    """Check every weight file against models/manifest.json (package version and sha256).

    Exits 1 if any file is missing or altered, naming the file and the expected checksum.
    """
    from models import verify_all

    console = Console(stderr=False)
    results = verify_all()
    table = Table("model", "package", "status")
    for result in results:
        status = "[green]ok[/]" if result.ok else f"[red]{result.problem}[/]"
        table.add_row(result.entry.name, result.entry.source, status)
    console.print(table)
    bad = [r for r in results if not r.ok]
    if bad:
        console.print(f"[red]{len(bad)} of {len(results)} model files failed verification[/]")
        sys.exit(1)
    console.print(f"all {len(results)} model files verified")


@models.command("list")
def list_models() -> None:
    """List each weight file with its providing package, path, sha256 and licence."""
    from models import load_manifest

    table = Table("model", "package", "path", "sha256", "licence")
    for entry in load_manifest():
        table.add_row(
            entry.name,
            entry.source,
            entry.path,
            entry.sha256[:16] + "…",
            entry.licence,
        )
    Console().print(table)
