"""``redactor serve`` and ``redactor keys create|revoke|list``: the HTTP API from a terminal.

Both read :class:`ServerSettings` from ``REDACTOR_*`` variables; see docs/http.md.
FastAPI, uvicorn and Redis are imported inside the commands, so other ``redactor``
commands do not pay for them.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from redactor.errors import RedactorError
from redactor.logs import log_format, logging_config

if TYPE_CHECKING:
    from redactor.http.auth import KeyStore
    from redactor.http.settings import ServerSettings

log = logging.getLogger(__name__)


def _settings() -> ServerSettings:
    from redactor.http.settings import ServerSettings
    from redactor.service.settings_errors import load_settings

    try:
        return load_settings(ServerSettings)
    except RedactorError as exc:
        raise click.ClickException(str(exc)) from None


def _key_store() -> KeyStore:
    from redactor.http.auth import KeyStore
    from redactor.service.redis_jobs import connect

    settings = _settings()
    try:
        pepper = settings.api_key_pepper_bytes()
    except RedactorError as exc:
        raise click.ClickException(str(exc)) from None
    return KeyStore(connect(settings.redis_url, outage_seconds=3), pepper)


@click.command()
@click.option("--host", default=None, help="Address to listen on. Default: REDACTOR_HOST.")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Default: REDACTOR_PORT.")
@click.option(
    "--workers", type=click.IntRange(1), default=1, show_default=True, help="Server processes."
)
@click.option(
    "--ssl-keyfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Serve HTTPS with this private key (and --ssl-certfile).",
)
@click.option(
    "--ssl-certfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="The certificate chain for --ssl-keyfile.",
)
def serve(
    host: str | None,
    port: int | None,
    workers: int,
    ssl_keyfile: Path | None,
    ssl_certfile: Path | None,
) -> None:
    """Run the HTTP API (uploads, jobs, health, metrics) with uvicorn.

    Needs Redis, the shared storage and workers (`redactor up` on one machine). Behind
    a TLS-terminating proxy, list the proxy in REDACTOR_TRUSTED_PROXIES; forwarded
    headers from anyone else are ignored.
    """
    import uvicorn

    if (ssl_keyfile is None) != (ssl_certfile is None):
        raise click.UsageError("--ssl-keyfile and --ssl-certfile go together")
    settings = _settings()
    try:  # refuse to start without the secrets, rather than on the first request
        settings.api_key_pepper_bytes()
        settings.ip_hash_key_bytes()
    except RedactorError as exc:
        raise click.ClickException(str(exc)) from None
    with _metrics_shared_by(workers):
        uvicorn.run(
            "redactor.http.app:app_from_environment",
            factory=True,
            host=host or settings.host,
            port=port or settings.port,
            workers=workers,
            ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
            ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
            # Our own access log hashes client addresses; uvicorn's prints them.
            access_log=False,
            # Each server process logs as this one does (REDACTOR_LOG_FORMAT, -v).
            log_config=logging_config(log_format("json"), logging.getLogger().level),
            proxy_headers=bool(settings.trusted_proxies),
            forwarded_allow_ips=list(settings.trusted_proxies) or None,
            server_header=False,
        )


@contextmanager
def _metrics_shared_by(workers: int) -> Iterator[None]:
    """Several server processes count requests in one fresh folder that every scrape adds
    up (prometheus_client's multiprocess mode), removed when the server stops. An
    operator's own ``PROMETHEUS_MULTIPROC_DIR`` is used as it is."""
    from redactor.http.metrics import MULTIPROCESS_DIR_VARIABLE

    if workers == 1 or os.environ.get(MULTIPROCESS_DIR_VARIABLE):
        yield
        return
    folder = tempfile.mkdtemp(prefix="redactor-metrics-")
    os.environ[MULTIPROCESS_DIR_VARIABLE] = folder
    log.info("%d server processes count requests in %s", workers, folder)
    try:
        yield
    finally:
        del os.environ[MULTIPROCESS_DIR_VARIABLE]
        shutil.rmtree(folder, ignore_errors=True)


@click.group()
def keys() -> None:
    """Create, revoke and list API keys (stored in Redis as keyed hashes only)."""


@keys.command("create")
@click.option("-t", "--tenant", required=True, help="Tenant id: a-z, 0-9, '_' and '-'.")
def create_key(tenant: str) -> None:
    """Create a key for TENANT and print it: this is the only time it is shown."""
    try:
        new = _key_store().create(tenant)
    except RedactorError as exc:
        raise click.BadParameter(str(exc), param_hint="--tenant") from None
    click.echo(f"key id: {new.key.key_id}  tenant: {new.key.tenant}", err=True)
    click.echo(new.secret)


@keys.command("revoke")
@click.argument("key_id")
def revoke_key(key_id: str) -> None:
    """Revoke the key KEY_ID at once (`redactor keys list` shows the ids)."""
    if not _key_store().revoke(key_id):
        raise click.ClickException(f"no key with id {key_id}")
    click.echo(f"revoked {key_id}", err=True)


@keys.command("list")
@click.option("-t", "--tenant", default=None, help="Only this tenant's keys.")
def list_keys(tenant: str | None) -> None:
    """List key ids, tenants and creation times (keys themselves are never stored)."""
    for key in _key_store().list(tenant):
        click.echo(f"{key.key_id}\t{key.tenant}\t{key.created_at.isoformat()}")
