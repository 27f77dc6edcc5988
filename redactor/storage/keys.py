"""Where things live in storage: one prefix per kind of object, one folder per tenant.

Keys are built only from a validated tenant id and a random upload id, never from
anything a client named (file names, paths), so a key can neither leak a file name nor
point outside its folder. Originals, results and reports sit under separate prefixes so
retention can sweep each kind by age with a single listing; the archived audit log has
a prefix of its own (``audit/<tenant>/<segment number>.jsonl.gz``).
"""

from __future__ import annotations

import re
import secrets
from typing import NamedTuple

from redactor.errors import RedactorError

ORIGINALS = "originals"
RESULTS = "results"
REPORTS = "reports"
AUDIT = "audit"

_TENANT = r"[a-z0-9][a-z0-9_-]{0,62}"
#: 16 random bytes in url-safe base64 without padding: exactly 22 characters.
_UPLOAD_ID = r"[A-Za-z0-9_-]{22}"
_EXTENSION = r"[a-z0-9]{1,5}"
_SEGMENT = r"[0-9]{12}\.jsonl\.gz"

TENANT_PATTERN = re.compile(_TENANT)
UPLOAD_ID_PATTERN = re.compile(_UPLOAD_ID)
#: Every key the layout can produce, and nothing else.
KEY_PATTERN = re.compile(
    rf"(?:{ORIGINALS}/{_TENANT}/{_UPLOAD_ID}"
    rf"|{RESULTS}/{_TENANT}/{_UPLOAD_ID}\.{_EXTENSION}"
    rf"|{REPORTS}/{_TENANT}/{_UPLOAD_ID}\.json"
    rf"|{AUDIT}/{_TENANT}/{_SEGMENT})"
)
#: Prefixes a listing may ask for: everything, one kind, or one kind of one tenant.
PREFIX_PATTERN = re.compile(rf"(?:(?:{ORIGINALS}|{RESULTS}|{REPORTS}|{AUDIT})/(?:{_TENANT}/)?)?")

#: The kind of object under each prefix, as the audit log and exports name it.
KINDS = {ORIGINALS: "original", RESULTS: "result", REPORTS: "report"}

#: File extensions for the output formats the pipeline writes.
_EXTENSIONS = {"jpeg": "jpg", "tiff": "tif"}


class InvalidKey(RedactorError):
    """A tenant id, upload id or storage key does not match the key layout."""

    code = "invalid_key"


class KeyParts(NamedTuple):
    #: ``original``, ``result`` or ``report``.
    kind: str
    tenant: str
    upload_id: str


def parse_key(key: str) -> KeyParts:
    """Which kind of object, tenant and upload a layout key names."""
    prefix, tenant, name = validate_key(key).split("/")
    return KeyParts(KINDS[prefix], tenant, name.split(".", 1)[0])


def new_upload_id() -> str:
    """A fresh random 128-bit id, url-safe; also used as the job id.

    Never starting with ``-``, so an id given on a command line is not read as an option.
    """
    while (upload_id := secrets.token_urlsafe(16)).startswith("-"):
        pass
    return upload_id


def validate_tenant(tenant: str) -> str:
    if not TENANT_PATTERN.fullmatch(tenant):
        raise InvalidKey(
            "tenant ids are 1-63 characters of a-z, 0-9, '_' and '-', starting with a "
            "letter or digit"
        )
    return tenant


def validate_upload_id(upload_id: str) -> str:
    if not UPLOAD_ID_PATTERN.fullmatch(upload_id):
        raise InvalidKey("upload ids are 22 url-safe base64 characters (128 random bits)")
    return upload_id


def validate_key(key: str) -> str:
    if not KEY_PATTERN.fullmatch(key):
        raise InvalidKey("storage key does not match the key layout")
    return key


def validate_prefix(prefix: str) -> str:
    if not PREFIX_PATTERN.fullmatch(prefix):
        raise InvalidKey("a listing prefix is '', '<kind>/' or '<kind>/<tenant>/'")
    return prefix


def original_key(tenant: str, upload_id: str) -> str:
    return f"{ORIGINALS}/{_folder(tenant, upload_id)}"


def result_key(tenant: str, upload_id: str, output_format: str) -> str:
    return f"{RESULTS}/{_folder(tenant, upload_id)}.{extension_for(output_format)}"


def report_key(tenant: str, upload_id: str) -> str:
    return f"{REPORTS}/{_folder(tenant, upload_id)}.json"


def segment_key(tenant: str, seq: int) -> str:
    """Where audit segment number ``seq`` (of ``tenant``'s events) is stored."""
    return f"{AUDIT}/{validate_tenant(tenant)}/{seq:012d}.jsonl.gz"


def segment_number(key: str) -> int:
    """The segment number in an audit segment's key."""
    prefix, _, name = validate_key(key).split("/")
    if prefix != AUDIT:
        raise InvalidKey("not an audit segment key")
    return int(name.split(".", 1)[0])


def extension_for(output_format: str) -> str:
    """``jpeg`` -> ``jpg``; any format name becomes a short lowercase extension."""
    lowered = output_format.lower()
    extension = _EXTENSIONS.get(lowered, lowered)
    if not re.fullmatch(_EXTENSION, extension):
        raise InvalidKey("output format is not a short alphanumeric name")
    return extension


def _folder(tenant: str, upload_id: str) -> str:
    return f"{validate_tenant(tenant)}/{validate_upload_id(upload_id)}"
