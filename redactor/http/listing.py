"""Pages of a tenant's uploads, newest first, with an opaque cursor.

The cursor encodes the job store's :class:`~redactor.jobs.Position` (the last item's
submission time and id), not an offset, so uploads arriving between two requests shift
nothing: the next page starts strictly after the last item seen. Erased uploads are
left out.
"""

from __future__ import annotations

import base64
import binascii

from redactor.jobs import Position
from redactor.storage import keys


class InvalidCursor(ValueError):
    pass


def encode_cursor(position: Position) -> str:
    return base64.urlsafe_b64encode(f"{position.submitted!r} {position.job_id}".encode()).decode()


def decode_cursor(text: str) -> Position:
    try:
        score, job_id = base64.urlsafe_b64decode(text.encode("ascii")).decode().split(" ")
        position = Position(float(score), job_id)
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidCursor("cursor is not one this API returned") from None
    if not keys.UPLOAD_ID_PATTERN.fullmatch(job_id) or position.submitted != position.submitted:
        raise InvalidCursor("cursor is not one this API returned")
    return position
