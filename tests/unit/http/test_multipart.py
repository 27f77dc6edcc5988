"""The streaming multipart reader: limits checked as bytes arrive, files spooled to disk."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from redactor.http.multipart import UploadBody, UploadLimits, UploadRefused, read_upload

CONTENT_TYPE = "multipart/form-data; boundary=XyZ"


def _part(name: str, value: bytes, filename: str | None = None) -> bytes:
    disposition = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
    return f"--XyZ\r\nContent-Disposition: {disposition}\r\n\r\n".encode() + value + b"\r\n"


def _body(*parts: bytes) -> bytes:
    return b"".join(parts) + b"--XyZ--\r\n"


async def _chunks(data: bytes, size: int = 7) -> AsyncIterator[bytes]:
    for start in range(0, len(data), size):
        yield data[start : start + size]


def _read(data: bytes, limits: UploadLimits, content_type: str = CONTENT_TYPE) -> UploadBody:
    return asyncio.run(read_upload(_chunks(data), content_type, limits))


@pytest.fixture
def limits(tmp_path: Path) -> UploadLimits:
    return UploadLimits(spool_dir=tmp_path / "spool", max_files=2, max_file_bytes=100)


def test_given_files_and_fields_then_files_are_spooled_and_fields_kept(
    limits: UploadLimits,
) -> None:
    body = _read(
        _body(_part("files", b"A" * 50, "x.jpg"), _part("text", b"off"), _part("files", b"BB")),
        limits,
    )
    try:
        assert [spooled.read() for spooled in body.files] == [b"A" * 50, b"BB"]
        assert [spooled.size for spooled in body.files] == [50, 2]
        assert body.fields == {"text": ["off"]}
        assert list(limits.spool_dir.iterdir()) == []  # anonymous: nothing named on disk
    finally:
        body.close()


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (_body(*[_part("files", b"A", "a")] * 3), 413, "at most 2 files"),
        (_body(_part("files", b"A" * 101, "a")), 413, "larger than the limit of 100"),
        (_body(_part("text", b"o" * 2000)), 413, "too long"),
        (_body(*[_part(f"f{i}", b"1") for i in range(17)]), 413, "form fields"),
        (_part("files", b"A", "a"), 400, "ended before its closing boundary"),
        (b"--XyZ\r\nno headers at all\r\n\r\n", 400, ""),
    ],
    ids=["files", "file-size", "field-size", "field-count", "truncated", "garbage"],
)
def test_given_body_breaking_a_rule_then_refused_with_its_status(
    limits: UploadLimits, data: bytes, status: int, message: str
) -> None:
    with pytest.raises(UploadRefused) as refused:
        _read(data, limits)
    assert refused.value.status == status
    assert message in refused.value.message


@pytest.mark.parametrize(
    "content_type", [None, "application/json", "multipart/form-data", "text/plain; boundary=x"]
)
def test_given_not_multipart_with_boundary_then_415(
    limits: UploadLimits, content_type: str | None
) -> None:
    with pytest.raises(UploadRefused) as refused:
        asyncio.run(read_upload(_chunks(b""), content_type, limits))
    assert refused.value.status == 415


def test_given_oversize_file_then_reading_stops_at_the_limit(limits: UploadLimits) -> None:
    consumed = 0

    async def endless() -> AsyncIterator[bytes]:
        nonlocal consumed
        yield _part("files", b"", "a")[:-2]
        while True:
            consumed += 10
            yield b"A" * 10

    with pytest.raises(UploadRefused):
        asyncio.run(read_upload(endless(), CONTENT_TYPE, limits))
    assert consumed <= 110
