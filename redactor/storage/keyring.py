"""Encryption keys for objects at rest: master keys by id, per-tenant keys, derivation.

* **Master keys** (32 random bytes each) have short ids. New objects use the *active*
  one; every object names the id it was written with, so old keys keep decrypting
  after a rotation until the last object they wrote has expired.
* **Data keys** are never stored. A tenant's key is derived with HKDF-SHA256 from the
  master key, salted with the tenant's own key if the tenant has one, and bound to the
  tenant id:
  ``tenant_data_key = HKDF(ikm=master[key_id], salt=tenant_key or none,
  info="redactor/data-key/v1/" + tenant)``. Each object (header version 2) is then
  encrypted with a key of its own, from that key and a random salt in its header:
  ``HKDF(ikm=tenant_data_key, salt=object_salt, info="redactor/object-key/v2/" + tenant)``.
  Version 1 objects were encrypted with the tenant's data key itself.
* **Crypto-shredding.** A tenant with a key of its own can be made unreadable at once,
  everywhere: delete its tenant key (from every host's settings and from backups of
  them). Without those 32 bytes its data keys cannot be derived, even with every
  master key, so all of its stored objects become noise. Tenants without a key of
  their own can be shredded only by retiring the master key, which affects everyone.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import IntEnum

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from redactor.errors import ConfigError
from redactor.storage.base import ObjectMissing

KEY_BYTES = 32
KEY_ID_PATTERN = re.compile(r"[A-Za-z0-9._-]{1,64}")
_INFO = b"redactor/data-key/v1/"
_OBJECT_INFO = b"redactor/object-key/v2/"


class Undecryptable(ObjectMissing):
    """The object is stored but cannot be read back: its key is gone (lost, retired, or
    the tenant's key was deleted: crypto-shredded), it was altered or moved, or it is not
    encrypted although its kind must be.

    A kind of :class:`ObjectMissing` on purpose: to every reader an object that cannot be
    decrypted is as good as deleted, and a retry will not bring the key back.
    """

    code = "undecryptable"


class KeyScope(IntEnum):
    """Which secrets an object's data key comes from (stored in each object's header)."""

    #: The master key and the tenant id.
    MASTER = 0
    #: The master key, the tenant id and the tenant's own key (shreddable per tenant).
    TENANT = 1


@dataclass(frozen=True)
class Keyring:
    #: Master keys by id; every id an object names must be here to read it.
    keys: Mapping[str, bytes] = field(repr=False)
    #: The id new objects are encrypted with.
    active: str
    #: Per-tenant keys; a tenant listed here can be crypto-shredded on its own.
    tenant_keys: Mapping[str, bytes] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        for key_id, secret in self.keys.items():
            _check_key(f"encryption key {key_id!r}", secret)
            if not KEY_ID_PATTERN.fullmatch(key_id):
                raise ConfigError(
                    f"encryption key id {key_id!r} must be 1-64 of A-Z, a-z, 0-9, '.', '_', '-'"
                )
        for tenant, secret in self.tenant_keys.items():
            _check_key(f"the encryption key of tenant {tenant!r}", secret)
        if self.active not in self.keys:
            raise ConfigError(
                f"the active encryption key {self.active!r} is not among the keys "
                f"({', '.join(sorted(self.keys)) or 'none'})"
            )

    @classmethod
    def from_base64(
        cls, keys: Mapping[str, str], active: str, tenant_keys: Mapping[str, str] | None = None
    ) -> Keyring:
        """A keyring from base64 text, as settings hold it (``openssl rand -base64 32``)."""
        return cls(
            keys={
                key_id: _decode(f"encryption key {key_id!r}", b64) for key_id, b64 in keys.items()
            },
            active=active,
            tenant_keys={
                tenant: _decode(f"the encryption key of tenant {tenant!r}", b64)
                for tenant, b64 in (tenant_keys or {}).items()
            },
        )

    def scope_for(self, tenant: str) -> KeyScope:
        """The scope a new object of ``tenant`` is written with."""
        return KeyScope.TENANT if tenant in self.tenant_keys else KeyScope.MASTER

    def data_key(self, key_id: str, tenant: str, scope: KeyScope, *, for_object: str) -> bytes:
        """The AES-256 key for ``tenant``'s objects under master ``key_id`` and ``scope``.

        Raises :class:`Undecryptable`, naming ``for_object``, when a secret it needs is
        not here.
        """
        master = self.keys.get(key_id)
        if master is None:
            raise Undecryptable(
                f"{for_object} was encrypted with key {key_id!r}, which is not in the keyring "
                "(REDACTOR_ENCRYPTION_KEYS): without it the object cannot be read"
            )
        salt = None
        if scope is KeyScope.TENANT:
            salt = self.tenant_keys.get(tenant)
            if salt is None:
                raise Undecryptable(
                    f"{for_object} was encrypted with tenant {tenant!r}'s own key, which is "
                    "no longer configured (REDACTOR_ENCRYPTION_TENANT_KEYS): the tenant's "
                    "data was crypto-shredded"
                )
        hkdf = HKDF(
            algorithm=hashes.SHA256(), length=KEY_BYTES, salt=salt, info=_INFO + tenant.encode()
        )
        return hkdf.derive(master)

    def object_key(
        self, key_id: str, tenant: str, scope: KeyScope, salt: bytes, *, for_object: str
    ) -> bytes:
        """The AES-256 key of one object: the tenant's data key, salted with the object's
        own random ``salt``. Needs everything :meth:`data_key` needs, so removing a
        tenant's key still shreds every object of the tenant."""
        tenant_key = self.data_key(key_id, tenant, scope, for_object=for_object)
        hkdf = HKDF(
            algorithm=hashes.SHA256(),
            length=KEY_BYTES,
            salt=salt,
            info=_OBJECT_INFO + tenant.encode(),
        )
        return hkdf.derive(tenant_key)


def _decode(what: str, text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(f"{what} is not valid base64") from None


def _check_key(what: str, secret: bytes) -> None:
    if len(secret) != KEY_BYTES:
        raise ConfigError(
            f"{what} has {len(secret)} bytes; it must be {KEY_BYTES} random bytes "
            "(e.g. `openssl rand -base64 32`)"
        )
