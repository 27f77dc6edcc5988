"""``redactor worker``, ``beat``, ``submit`` and ``up``: the queue from a terminal.

All read :class:`ServiceSettings` from ``REDACTOR_*`` variables; see docs/queue.md.
Celery, Redis and the worker code are imported inside the commands, so other
``redactor`` commands do not pay for them.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from redactor.errors import RedactorError
from redactor.jobs import JobRecord, JobState
from redactor.logs import log_format
from redactor.service.settings import ServiceSettings
from redactor.service.settings_errors import load_settings
from redactor.storage import keys

if TYPE_CHECKING:
    from redactor.service.client import RedactorClient

EXIT_OK, EXIT_SOME_FAILED = 0, 1


def settings_or_exit() -> ServiceSettings:
    try:
        return load_settings(ServiceSettings)
    except RedactorError as exc:
        raise click.ClickException(str(exc)) from None


def _require_hash_key(settings: ServiceSettings) -> None:
    try:
        settings.hash_key_bytes()
    except RedactorError as exc:
        raise click.ClickException(str(exc)) from None


@click.command()
@click.option(
    "-c",
    "--concurrency",
    type=click.IntRange(1),
    default=None,
    help="Worker processes. Default: REDACTOR_WORKER_CONCURRENCY, else one per core.",
)
@click.option(
    "--loglevel",
    type=click.Choice(["DEBUG", "INFO", "WARNING", "ERROR"]),
    default="INFO",
    show_default=True,
)
@click.option(
    "-Q",
    "--queues",
    default=None,
    metavar="QUEUE[,QUEUE]",
    help="Queues to take redaction tasks from. Default: REDACTOR_QUEUE, plus "
    "REDACTOR_OCR_QUEUE when set (give only the OCR queue on GPU hosts).",
)
@click.option(
    "--retention",
    is_flag=True,
    help="Run a retention sweeper instead: one process on REDACTOR_RETENTION_QUEUE, no models.",
)
def worker(concurrency: int | None, loglevel: str, queues: str | None, retention: bool) -> None:
    """Run a redaction worker against REDACTOR_REDIS_URL and the shared REDACTOR_STORAGE_DIR.

    Start one per host; each runs one process per core, and each process loads the
    models once. Stop it with Ctrl-C (running tasks finish or are redelivered).
    With --retention it runs the sweeps `redactor beat` sends instead (one or two
    per installation are enough; they never delete anything twice).
    """
    from redactor.service.stack import retention_worker_argv, worker_argv
    from workers.celery_app import create_app

    settings = settings_or_exit()
    _require_hash_key(settings)
    app = create_app(settings)
    if retention:
        argv = retention_worker_argv(queue=settings.retention_queue, loglevel=loglevel)
    else:
        argv = worker_argv(
            concurrency=concurrency or settings.concurrency(),
            queue=queues or ",".join(settings.redaction_queues()),
            loglevel=loglevel,
        )
    app.worker_main([*_banner_option(), *argv])


@click.command()
@click.option(
    "--schedule-file",
    type=click.Path(dir_okay=False, path_type=Path),
    default=Path("var/celerybeat-schedule"),
    show_default=True,
    help="Where beat remembers when each periodic task last ran.",
)
def beat(schedule_file: Path) -> None:
    """Send the periodic tasks (the retention sweep every REDACTOR_SWEEP_INTERVAL s).

    Run one per installation; a second one only causes extra, harmless sweeps.
    """
    from redactor.service.stack import beat_argv
    from workers.celery_app import create_app

    settings = settings_or_exit()
    _require_hash_key(settings)
    schedule_file.parent.mkdir(parents=True, exist_ok=True)
    create_app(settings).start([*_banner_option(), *beat_argv(schedule_file)])


def _banner_option() -> list[str]:
    """Celery's start-up banner is for people: with JSON logs it would break the stream."""
    return ["--quiet"] if log_format("json") == "json" else []


@click.command()
@click.argument(
    "files", nargs=-1, required=True, type=click.Path(exists=True, dir_okay=False, path_type=Path)
)
@click.option(
    "-o",
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="Write results here (implies --wait): NAME.<ext> and NAME.report.json.",
)
@click.option(
    "-t", "--tenant", default="default", show_default=True, help="Tenant id: a-z, 0-9, '_' and '-'."
)
@click.option("-w", "--wait", "wait_for_jobs", is_flag=True, help="Wait until every job finished.")
@click.option(
    "--timeout",
    type=click.FloatRange(1),
    default=600.0,
    show_default=True,
    help="Seconds to wait for all jobs together.",
)
def submit(
    files: tuple[Path, ...], out: Path | None, tenant: str, wait_for_jobs: bool, timeout: float
) -> None:
    """Queue FILES for redaction by the workers; print one job id per file.

    File names stay on this machine: only the bytes are stored for the workers.
    Exit status: 0 all done (or queued), 1 some jobs failed.
    """
    from redactor.service.client import RedactorClient

    console = Console(stderr=True)
    try:
        keys.validate_tenant(tenant)
    except RedactorError as exc:
        raise click.BadParameter(str(exc), param_hint="--tenant") from None
    with RedactorClient(settings_or_exit()) as client:
        job_ids = _submit_all(client, files, tenant, console)
        for job_id, path in zip(job_ids, files, strict=True):
            click.echo(f"{job_id}\t{path}")
        if not (wait_for_jobs or out):
            return
        records = _wait_all(client, job_ids, timeout, console)
        if out is not None:
            _write_outputs(client, records, files, out)
    failed = [r for r in records if r.state is not JobState.DONE]
    for record in failed:
        console.print(f"[red]{record.job_id}: {record.failure_code}: {record.failure_message}[/]")
    console.print(f"{len(records) - len(failed)} of {len(records)} redacted")
    sys.exit(EXIT_SOME_FAILED if failed else EXIT_OK)


def _progress(console: Console) -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )


def _submit_all(
    client: RedactorClient, files: Sequence[Path], tenant: str, console: Console
) -> list[str]:
    job_ids: list[str] = []
    with _progress(console) as progress:
        bar = progress.add_task("queueing", total=len(files))
        for path in files:
            try:
                job_ids.append(client.submit(path, tenant=tenant))
            except RedactorError as exc:
                raise click.ClickException(f"{path}: {exc}") from None
            progress.advance(bar)
    return job_ids


def _wait_all(
    client: RedactorClient, job_ids: Sequence[str], timeout: float, console: Console
) -> list[JobRecord]:
    deadline = time.monotonic() + timeout
    pending = list(job_ids)
    finished: dict[str, JobRecord] = {}
    with _progress(console) as progress:
        bar = progress.add_task("redacting", total=len(job_ids))
        while pending:
            if time.monotonic() > deadline:
                raise click.ClickException(
                    f"{len(pending)} jobs still unfinished after {timeout} s"
                )
            records = [client.status(job_id) for job_id in pending]
            finished.update({r.job_id: r for r in records if r.finished})
            pending = [r.job_id for r in records if not r.finished]
            progress.update(bar, completed=len(finished))
            if pending:
                time.sleep(0.25)
    return [finished[job_id] for job_id in job_ids]


def _write_outputs(
    client: RedactorClient, records: Sequence[JobRecord], files: Sequence[Path], out: Path
) -> None:
    """``NAME.<ext>`` per redacted file (``NAME-<job>`` if two inputs share a name)."""
    out.mkdir(parents=True, exist_ok=True)
    stems = [path.stem for path in files]
    for record, stem in zip(records, stems, strict=True):
        name = stem if stems.count(stem) == 1 else f"{stem}-{record.job_id[:8]}"
        if record.state is JobState.DONE:
            extension = keys.extension_for(record.output_format or "")
            (out / f"{name}.{extension}").write_bytes(client.result(record.job_id))
        if record.report_key is not None:
            report = json.dumps(client.report(record.job_id), indent=2, sort_keys=True)
            (out / f"{name}.report.json").write_text(report + "\n")


@click.command()
@click.option(
    "--data-dir",
    type=click.Path(file_okay=False, path_type=Path),
    default=Path("var"),
    show_default=True,
    help="Redis keeps its append-only file in DATA_DIR/redis, its URL in DATA_DIR/redis-url.",
)
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=6379,
    show_default=True,
    help="Loopback port for Redis; clients use REDACTOR_REDIS_URL to find it.",
)
@click.option(
    "-c",
    "--concurrency",
    type=click.IntRange(1),
    default=None,
    help="Worker processes. Default: one per core.",
)
def up(data_dir: Path, port: int, concurrency: int | None) -> None:
    """Run Redis (with persistence), a worker, a sweeper and beat on this machine until Ctrl-C.

    A child that exits is logged and started again (Redis first). Redis asks for a
    password, kept with its URL in DATA_DIR/redis-url (readable by you only): clients
    need `export REDACTOR_REDIS_URL=$(cat DATA_DIR/redis-url)`. For development and
    single-host installs; docs/queue.md shows how to run workers on several hosts
    against one Redis instead.
    """
    from redactor.service.stack import (
        RedisServer,
        Stack,
        StackFailed,
        beat_process,
        retention_worker_process,
        stack_password,
        worker_process,
        write_private,
    )

    settings = settings_or_exit()
    _require_hash_key(settings)
    data_dir = data_dir.resolve()
    url_file = data_dir / "redis-url"
    redis_server = RedisServer(
        data_dir=data_dir / "redis", port=port, password=stack_password(url_file)
    )
    write_private(url_file, redis_server.url + "\n")
    env = {**os.environ, "REDACTOR_REDIS_URL": redis_server.url}
    stack = Stack(
        redis=redis_server,
        children=[
            worker_process(
                env=env,
                concurrency=concurrency or settings.concurrency(),
                queue=",".join(settings.redaction_queues()),
            ),
            retention_worker_process(env=env, queue=settings.retention_queue),
            beat_process(env=env, schedule_file=data_dir / "celerybeat-schedule"),
        ],
    )
    console = Console(stderr=True)
    console.print(
        f"redis on {redis_server.host}:{port}, password required: clients take "
        f"REDACTOR_REDIS_URL from {url_file} (`export REDACTOR_REDIS_URL=$(cat {url_file})`); "
        f"append-only file in {redis_server.data_dir}; storage in "
        f"{settings.storage_dir.resolve()}; retention sweeps every "
        f"{settings.sweep_interval:g} s; a child that exits is started again; "
        "Ctrl-C stops everything",
        highlight=False,
        soft_wrap=True,
    )
    try:
        stack.run()
    except (RuntimeError, TimeoutError, StackFailed) as exc:
        raise click.ClickException(str(exc)) from None
