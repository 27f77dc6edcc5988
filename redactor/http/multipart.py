"""A streaming ``multipart/form-data`` reader for uploads.

Why not FastAPI's ``UploadFile``: Starlette spools parts into the process-wide temp
folder and enforces no per-file size or file count while parsing. Here every file part
goes, as it arrives, into an anonymous temp file in the configured spool folder
(unlinked at once, so nothing is left behind even after a crash), and the limits are
checked chunk by chunk, so the request is refused the moment one is passed.
Part file names and content types are never read: the format comes from the bytes.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from python_multipart import MultipartParser
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import parse_options_header

from redactor.http.validation import clip

#: The field that carries images; every other field is a short text option.
FILES_FIELD = "files"
#: Bytes read from each file's start to sniff its format.
HEAD_BYTES = 64 * 1024
_MAX_FIELD_BYTES = 1024
_MAX_FIELDS = 16


class UploadRefused(Exception):
    """The body breaks a rule; ``status`` is the HTTP status that says which kind, and
    ``field`` the form field at fault when there is one (422)."""

    def __init__(self, status: int, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.field = field


@dataclass
class SpooledFile:
    handle: IO[bytes]
    size: int = 0

    def head(self) -> bytes:
        self.handle.seek(0)
        return self.handle.read(HEAD_BYTES)

    def read(self) -> bytes:
        self.handle.seek(0)
        return self.handle.read()


@dataclass
class UploadBody:
    files: list[SpooledFile] = field(default_factory=list)
    #: Text fields by name (repeated names keep every value).
    fields: dict[str, list[str]] = field(default_factory=dict)

    def close(self) -> None:
        for spooled in self.files:
            spooled.handle.close()


@dataclass(frozen=True, slots=True)
class UploadLimits:
    spool_dir: Path
    max_files: int
    max_file_bytes: int


def boundary_of(content_type: str | None) -> bytes:
    """The multipart boundary, or :class:`UploadRefused` (415) for any other body type."""
    media_type, params = parse_options_header(content_type or "")
    boundary = params.get(b"boundary")
    if media_type != b"multipart/form-data" or not boundary:
        raise UploadRefused(415, "send the images as multipart/form-data")
    return boundary


class _Reader:
    """python-multipart callbacks that build an :class:`UploadBody` under the limits."""

    def __init__(self, limits: UploadLimits) -> None:
        self.limits = limits
        self.body = UploadBody()
        self.ended = False
        self._header_name = b""
        self._header_value = b""
        self._disposition = b""
        self._typed = False
        self._file: SpooledFile | None = None
        self._name = ""
        self._value = bytearray()

    def on_part_begin(self) -> None:
        self._disposition = b""
        self._typed = False

    def on_header_field(self, data: bytes, start: int, end: int) -> None:
        self._header_name += data[start:end]

    def on_header_value(self, data: bytes, start: int, end: int) -> None:
        self._header_value += data[start:end]

    def on_header_end(self) -> None:
        if self._header_name.lower() == b"content-disposition":
            self._disposition = self._header_value
        elif self._header_name.lower() == b"content-type":
            media_type, _ = parse_options_header(self._header_value)
            self._typed = media_type != b"text/plain"
        self._header_name, self._header_value = b"", b""

    def on_headers_finished(self) -> None:
        _, params = parse_options_header(self._disposition)
        self._name = params.get(b"name", b"").decode("utf-8", "replace")
        if self._name == FILES_FIELD:
            self._start_file()
        elif b"filename" in params or self._typed:
            # Only whether the part is a file is looked at, never its file name.
            raise UploadRefused(
                422,
                f"a file was sent in the form field {clip(self._name)!r}; "
                f"send images in the field {FILES_FIELD!r}",
                field=self._name,
            )
        elif sum(len(v) for v in self.body.fields.values()) >= _MAX_FIELDS:
            raise UploadRefused(413, f"at most {_MAX_FIELDS} form fields besides files")
        self._value = bytearray()

    def _start_file(self) -> None:
        if len(self.body.files) >= self.limits.max_files:
            raise UploadRefused(413, f"at most {self.limits.max_files} files per request")
        self.limits.spool_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # Closed by UploadBody.close(), which the request's dependency always calls.
        handle = tempfile.TemporaryFile(dir=self.limits.spool_dir)  # noqa: SIM115
        self._file = SpooledFile(handle)
        self.body.files.append(self._file)

    def on_part_data(self, data: bytes, start: int, end: int) -> None:
        if self._file is None:
            self._value += data[start:end]
            if len(self._value) > _MAX_FIELD_BYTES:
                raise UploadRefused(413, f"form field {self._name!r} is too long")
            return
        self._file.size += end - start
        if self._file.size > self.limits.max_file_bytes:
            raise UploadRefused(
                413, f"a file is larger than the limit of {self.limits.max_file_bytes} bytes"
            )
        self._file.handle.write(data[start:end])

    def on_part_end(self) -> None:
        if self._file is None:
            value = self._value.decode("utf-8", "replace")
            self.body.fields.setdefault(self._name, []).append(value)
        self._file = None

    def on_end(self) -> None:
        self.ended = True


async def read_upload(
    chunks: AsyncIterator[bytes], content_type: str | None, limits: UploadLimits
) -> UploadBody:
    """Parse a multipart body as it streams in; the caller closes the result."""
    reader = _Reader(limits)
    parser = MultipartParser(
        boundary_of(content_type),
        {
            "on_part_begin": reader.on_part_begin,
            "on_part_data": reader.on_part_data,
            "on_part_end": reader.on_part_end,
            "on_header_field": reader.on_header_field,
            "on_header_value": reader.on_header_value,
            "on_header_end": reader.on_header_end,
            "on_headers_finished": reader.on_headers_finished,
            "on_end": reader.on_end,
        },
    )
    try:
        async for chunk in chunks:
            parser.write(chunk)
        parser.finalize()
    except MultipartParseError:
        reader.body.close()
        raise UploadRefused(400, "the multipart body is malformed") from None
    except BaseException:
        reader.body.close()
        raise
    if not reader.ended:
        reader.body.close()
        raise UploadRefused(400, "the multipart body ended before its closing boundary")
    return reader.body
