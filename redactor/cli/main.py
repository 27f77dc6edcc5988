"""The ``redactor`` command line."""

from __future__ import annotations

import logging

import click

from redactor import __version__
from redactor.cli.http import keys, serve
from redactor.cli.models import models
from redactor.cli.redact import redact
from redactor.cli.retention import audit, erase, export, sweep
from redactor.cli.scale import queues
from redactor.cli.service import beat, submit, up, worker
from redactor.errors import ConfigError
from redactor.logs import configure_logging, log_format

#: Commands that run as services: they log JSON lines at INFO unless told otherwise.
SERVICE_COMMANDS = frozenset({"serve", "worker", "beat"})


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="redactor")
@click.option(
    "-v",
    "--verbose",
    count=True,
    help="More log output (-v info, -vv debug, with the native libraries' own messages).",
)
@click.pass_context
def cli(ctx: click.Context, verbose: int) -> None:
    """Redact faces, personal text and metadata from images.

    Start with `redactor redact PHOTOS/ --out REDACTED/`; `redactor COMMAND --help`
    explains each command. Logs go to stderr: REDACTOR_LOG_FORMAT=json|text (json by
    default for serve, worker and beat, text for the rest).
    """
    service = ctx.invoked_subcommand in SERVICE_COMMANDS
    try:
        chosen = log_format("json" if service else "text")
    except ConfigError as exc:
        raise click.ClickException(str(exc)) from None
    level = (logging.INFO if service else logging.WARNING) - 10 * min(verbose, 2)
    configure_logging(chosen, max(level, logging.DEBUG))


cli.add_command(redact)
cli.add_command(models)
cli.add_command(worker)
cli.add_command(submit)
cli.add_command(up)
cli.add_command(beat)
cli.add_command(sweep)
cli.add_command(erase)
cli.add_command(export)
cli.add_command(audit)
cli.add_command(serve)
cli.add_command(keys)
cli.add_command(queues)


def main() -> None:
    cli(prog_name="redactor")
