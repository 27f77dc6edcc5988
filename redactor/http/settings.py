"""Settings for the HTTP API process, from ``REDACTOR_*`` variables.

:class:`ServerSettings` extends the queue's :class:`ServiceSettings`, so the API reads
the same ``REDACTOR_REDIS_URL``, ``REDACTOR_STORAGE_DIR`` and retention variables as the
workers it feeds (retention defaults and per-tenant maximums included), and adds what
only a server needs. Read once, at the entry point
(``redactor serve``), and passed to :func:`redactor.http.app.create_app`.

Both secrets have no default outside dev mode (``REDACTOR_DEV_MODE=1``): a server
started without them refuses to start rather than hash keys or addresses with a
public value.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from redactor.errors import ConfigError
from redactor.service.settings import ServiceSettings

#: Used only with REDACTOR_DEV_MODE=1; keys hashed with it are not protected.
DEV_API_KEY_PEPPER = b"redactor-dev-mode-api-key-pepper-not-secret"
#: Used only with REDACTOR_DEV_MODE=1; address hashes made with it can be reversed.
DEV_IP_HASH_KEY = b"redactor-dev-mode-ip-hash-key-not-secret"

MIB = 1024 * 1024


class ServerSettings(ServiceSettings):
    #: Loopback unless told otherwise: exposing the API is a deliberate act.
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    #: Secret mixed into every API-key hash (HMAC-SHA256). Required outside dev mode.
    api_key_pepper: SecretStr | None = None
    #: Secret for the keyed hash of client addresses in access logs. Required outside
    #: dev mode.
    ip_hash_key: SecretStr | None = None
    #: Request bodies above this are refused with 413 while they stream in.
    max_body_bytes: int = Field(default=256 * MIB, gt=0)
    #: Images per upload request.
    max_files_per_request: int = Field(default=10, gt=0)
    #: Where uploads are spooled while the body streams in (private, per host).
    spool_dir: Path = Path("var/spool")
    #: Requests per API key per window (shared by every API process through Redis).
    rate_limit: int = Field(default=120, gt=0)
    #: Length of the rate-limit window, seconds.
    rate_window: int = Field(default=60, gt=0)
    #: Uploads are refused with 503 while the Celery queue holds more tasks than this.
    max_queue_depth: int = Field(default=1000, ge=0)
    #: Retry-After for a refused upload while the queue is too deep, seconds.
    backpressure_retry_after: int = Field(default=30, gt=0)
    #: Proxies whose X-Forwarded-For/-Proto are believed (addresses or CIDRs). Empty:
    #: forwarded headers are ignored and the peer address is the client.
    trusted_proxies: tuple[str, ...] = ()
    #: Serve Swagger UI at ``/docs`` (from the package, under a strict CSP). The schema
    #: itself is always at ``/openapi.json``.
    api_docs: bool = False

    def api_key_pepper_bytes(self) -> bytes:
        return _secret(self.api_key_pepper, DEV_API_KEY_PEPPER, self.dev_mode, "API_KEY_PEPPER")

    def ip_hash_key_bytes(self) -> bytes:
        return _secret(self.ip_hash_key, DEV_IP_HASH_KEY, self.dev_mode, "IP_HASH_KEY")


def _secret(value: SecretStr | None, dev_value: bytes, dev_mode: bool, name: str) -> bytes:
    if value is not None:
        return value.get_secret_value().encode()
    if dev_mode:
        return dev_value
    raise ConfigError(
        f"REDACTOR_{name} is not set: give the API a long random secret "
        "(e.g. `openssl rand -hex 32`), the same for every API process"
    )
