"""The ``redactor`` command line."""

from __future__ import annotations

import logging
import os

import click

from redactor import __version__
from redactor.cli.http import keys, serve
from redactor.cli.models import models
from redactor.cli.redact import redact
from redactor.cli.retention import audit, erase, export, sweep
from redactor.cli.scale import queues
from redactor.cli.service import beat, submit, up, worker


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="redactor")
@click.option("-v", "--verbose", count=True, help="More log output (-v info, -vv debug).")
def cli(verbose: int) -> None:
    """Redact faces, personal text and metadata from images.

    Start with `redactor redact PHOTOS/ --out REDACTED/`; `redactor COMMAND --help`
    explains each command.
    """
    level = logging.WARNING - 10 * min(verbose, 2)
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    # MediaPipe and TensorFlow Lite write start-up chatter to stderr unless told not to.
    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


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
