"""``redactor queues``: each queue's backlog and finished tasks, for operators and scripts.

Reads the same Redis counters as ``GET /metrics`` (:mod:`redactor.service.queues`).
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict

import click
from rich.console import Console
from rich.table import Table

from redactor.service.queues import OUTCOMES, QueueStats, queue_stats
from redactor.service.settings import ServiceSettings


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object per queue, one a line.")
@click.option(
    "--rate",
    type=click.FloatRange(min=1),
    default=None,
    metavar="SECONDS",
    help="Also measure each queue's throughput over SECONDS (tasks finished per minute).",
)
def queues(as_json: bool, rate: float | None) -> None:
    """Tasks waiting in each queue and tasks finished (done, failed, skipped) per queue.

    Lists the main, OCR and retention queues, and any queue a worker has counted tasks
    from. With --rate, reads twice SECONDS apart and adds tasks finished per minute.
    """
    from redactor.cli.service import settings_or_exit
    from redactor.service.redis_jobs import connect

    settings = settings_or_exit()
    client = connect(settings.redis_url, outage_seconds=settings.redis_outage_seconds)
    before = queue_stats(client, _known_queues(settings))
    per_minute: dict[str, float] = {}
    if rate is not None:
        time.sleep(rate)
        after = queue_stats(client, _known_queues(settings))
        per_minute = _per_minute(before, after, rate)
        before = after
    if as_json:
        for stats in before:
            click.echo(json.dumps({**asdict(stats), "per_minute": per_minute.get(stats.queue)}))
        return
    Console().print(_table(before, per_minute if rate is not None else None))


def _known_queues(settings: ServiceSettings) -> list[str]:
    return [*settings.redaction_queues(), settings.retention_queue]


def _per_minute(
    before: list[QueueStats], after: list[QueueStats], seconds: float
) -> dict[str, float]:
    """Tasks finished per minute between two readings, whatever their outcome."""
    earlier = {stats.queue: sum(stats.finished.values()) for stats in before}
    return {
        stats.queue: (sum(stats.finished.values()) - earlier.get(stats.queue, 0)) * 60 / seconds
        for stats in after
    }


def _table(stats: list[QueueStats], per_minute: dict[str, float] | None) -> Table:
    table = Table("queue", "waiting", *OUTCOMES)
    if per_minute is not None:
        table.add_column("per minute")
    for queue in stats:
        row = [queue.queue, str(queue.waiting), *(str(queue.finished.get(o, 0)) for o in OUTCOMES)]
        if per_minute is not None:
            row.append(f"{per_minute.get(queue.queue, 0.0):.1f}")
        table.add_row(*row)
    return table
