"""API keys: one tenant per key, stored only as keyed hashes, revocable.

A key is ``rdk_`` followed by 32 random bytes (url-safe base64). It is shown once, when
it is created, and never stored: Redis holds ``HMAC-SHA256(pepper, key)`` as the name of
a hash that maps to the tenant. A stolen copy of Redis therefore holds no usable key,
and without the pepper (a server setting, never in Redis) nobody can test guesses
against it offline. Looking a key up by its digest leaks nothing through timing: the
digest of a guess is unpredictable without the pepper.

Layout::

    redactor:apikey:<hex digest>  hash  key_id, tenant, created_at
    redactor:apikeys              hash  key_id -> hex digest   (for list and revoke)

``key_id`` is a short public id for operators (``redactor keys revoke KEY_ID``, logs).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import cast

import redis

from redactor.clock import utcnow
from redactor.storage import keys

KEY_PREFIX = "rdk_"
_KEY_PATTERN_LENGTH = len(KEY_PREFIX) + 43  # token_urlsafe(32) is 43 characters
_INDEX = "redactor:apikeys"


def _record_key(digest: str) -> str:
    return f"redactor:apikey:{digest}"


@dataclass(frozen=True, slots=True)
class ApiKey:
    key_id: str
    tenant: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class NewKey:
    """A freshly created key: ``secret`` is what the client sends, shown only once."""

    key: ApiKey
    secret: str


class KeyStore:
    def __init__(self, client: redis.Redis, pepper: bytes) -> None:
        self.client = client
        self._pepper = pepper

    def create(self, tenant: str) -> NewKey:
        secret = KEY_PREFIX + secrets.token_urlsafe(32)
        key = ApiKey(secrets.token_hex(6), keys.validate_tenant(tenant), utcnow())
        digest = self._digest(secret)
        pipe = self.client.pipeline(transaction=True)
        pipe.hset(
            _record_key(digest),
            mapping={
                "key_id": key.key_id,
                "tenant": key.tenant,
                "created_at": key.created_at.isoformat(),
            },
        )
        pipe.hset(_INDEX, key.key_id, digest)
        pipe.execute()
        return NewKey(key, secret)

    def authenticate(self, secret: str) -> ApiKey | None:
        """The key ``secret`` belongs to, or ``None`` for anything unknown or revoked."""
        if not secret.startswith(KEY_PREFIX) or len(secret) != _KEY_PATTERN_LENGTH:
            return None
        fields = cast(dict[str, str], self.client.hgetall(_record_key(self._digest(secret))))
        return _from_fields(fields) if fields else None

    def revoke(self, key_id: str) -> bool:
        """Delete the key; ``True`` if it existed. Takes effect on the next request."""
        digest = cast(str | None, self.client.hget(_INDEX, key_id))
        if digest is None:
            return False
        pipe = self.client.pipeline(transaction=True)
        pipe.delete(_record_key(digest))
        pipe.hdel(_INDEX, key_id)
        pipe.execute()
        return True

    def list(self, tenant: str | None = None) -> list[ApiKey]:
        """Every key (or one tenant's), oldest first. Secrets cannot be listed: none are kept."""
        digests = cast(dict[str, str], self.client.hgetall(_INDEX))
        pipe = self.client.pipeline(transaction=False)
        for digest in digests.values():
            pipe.hgetall(_record_key(digest))
        found = [_from_fields(fields) for fields in pipe.execute() if fields]
        return sorted(
            (key for key in found if tenant is None or key.tenant == tenant),
            key=lambda key: key.created_at,
        )

    def _digest(self, secret: str) -> str:
        return hmac.new(self._pepper, secret.encode(), hashlib.sha256).hexdigest()


def _from_fields(fields: dict[str, str]) -> ApiKey:
    return ApiKey(fields["key_id"], fields["tenant"], datetime.fromisoformat(fields["created_at"]))
