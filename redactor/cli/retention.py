"""``redactor sweep``, ``erase``, ``export`` and ``audit``: retention from a terminal.

Each reads :class:`ServiceSettings` from ``REDACTOR_*`` (the same Redis and storage as
the workers) and prints JSON, so the output can go straight to other tools. None of it
ever prints file names, text, pixels or client addresses: only ids, kinds and times.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from redactor.clock import utcnow
from redactor.errors import RedactorError

if TYPE_CHECKING:
    from redactor.service.retention_setup import Retention

#: How far back ``sweep --dry-run`` looks for the latest deletions' lateness.
_LATENESS_WINDOW = timedelta(hours=1)


def _retention() -> Retention:
    from redactor.cli.service import settings_or_exit
    from redactor.service.retention_setup import open_retention

    return open_retention(settings_or_exit())


def _echo_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, sort_keys=True))


@click.command()
@click.option("--dry-run", is_flag=True, help="Only report what is due and how late deletions ran.")
@click.option(
    "--orphans/--no-orphans",
    default=True,
    show_default=True,
    help="Also scan storage for objects no record tracks (the backstop).",
)
def sweep(dry_run: bool, orphans: bool) -> None:
    """Delete every original, result and report whose retention has ended, once.

    For cron-style operation without `redactor beat`; safe to run while other
    sweepers run. Prints a JSON summary.
    """
    from redactor.retention import max_deletion_lateness, overdue_count

    retention = _retention()
    now = retention.clock()
    if dry_run:
        _echo_json(
            {
                "overdue": overdue_count(retention.index, now),
                "max_lateness_seconds": max_deletion_lateness(
                    retention.audit.tail(), since=now - _LATENESS_WINDOW
                ),
                "due": [
                    {"target": item.target.value, "upload_id": item.job_id}
                    for item in retention.index.peek_due(now, limit=100)
                ],
            }
        )
        return
    from redactor.cli.service import settings_or_exit
    from redactor.service.requeue import open_requeuer

    summary = retention.sweep(orphans=orphans)
    summary["requeued"] = open_requeuer(settings_or_exit()).requeue_lost(now)
    _echo_json(summary)


@click.command()
@click.argument("upload_id")
@click.option("-t", "--tenant", required=True, help="The tenant the upload belongs to.")
def erase(upload_id: str, tenant: str) -> None:
    """Erase UPLOAD_ID now: original, result, report, and the record down to a tombstone.

    Safe to repeat: a second run finishes anything a failed first run left.
    """
    from redactor.service.erasure import erase as erase_upload

    retention = _retention()
    try:
        report = erase_upload(
            retention.jobs, retention.storage, tenant, upload_id, clock=retention.clock
        )
    except RedactorError as exc:
        raise click.ClickException(str(exc)) from None
    _echo_json(report.as_dict())


@click.command()
@click.option("-t", "--tenant", required=True, help="Whose data to list.")
def export(tenant: str) -> None:
    """Print, as JSON, everything held for TENANT: uploads, objects, stored and delete-by times.

    For access and portability requests. Ids, kinds and times only.
    """
    from redactor.service.erasure import export as export_tenant

    retention = _retention()
    try:
        data = export_tenant(
            retention.jobs,
            retention.storage,
            tenant,
            policy=retention.policy,
            clock=retention.clock,
        )
    except RedactorError as exc:
        raise click.ClickException(str(exc)) from None
    _echo_json(data)


def _moment(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not an ISO 8601 time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@click.command()
@click.option("-t", "--tenant", help="Only this tenant's events.")
@click.option("-u", "--upload", "upload_id", help="Only this upload's events.")
@click.option("--since", help="Events at or after this ISO 8601 time (UTC if no zone).")
@click.option("--until", help="Events before this ISO 8601 time (UTC if no zone).")
@click.option(
    "--stats",
    is_flag=True,
    help="Print the overdue count and the worst lateness of the selected deletions instead.",
)
@click.option(
    "--verify",
    is_flag=True,
    help="Check the chain of archived segments instead (exit 1 if one was altered or removed).",
)
def audit(
    tenant: str | None,
    upload_id: str | None,
    since: str | None,
    until: str | None,
    stats: bool,
    verify: bool,
) -> None:
    """Print the audit log of deletions and erasures as JSON lines, oldest first.

    Reads the segments archived in storage, then the live tail in Redis.
    """
    from redactor.audit import AuditAction, AuditFilter, max_lateness
    from redactor.retention import overdue_count

    retention = _retention()
    if verify:
        _verify(retention)
        return
    where = AuditFilter(tenant, upload_id, _moment(since), _moment(until))
    if not stats:
        for event in retention.audit.read(where):
            click.echo(event.to_json())
        return
    deletions = [e for e in retention.audit.read(where) if e.event is AuditAction.DELETED]
    lateness = max_lateness(deletions)
    _echo_json(
        {
            "overdue": overdue_count(retention.index, utcnow()),
            "deletions": len(deletions),
            "max_lateness_seconds": None if lateness is None else lateness.total_seconds(),
        }
    )


def _verify(retention: Retention) -> None:
    """Print the verdict as JSON; exit 1 when the chain does not verify."""
    problems = retention.audit.verify(retention.clock(), retention.audit_retention)
    _echo_json({"verified": not problems, "problems": problems})
    if problems:
        raise SystemExit(1)
