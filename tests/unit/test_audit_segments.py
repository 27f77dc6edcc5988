"""Archived audit segments: the format, its determinism, and what breaks the chain."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime, timedelta

import pytest

from redactor.audit import AuditAction, AuditEvent, ObjectKind, Reason
from redactor.audit_segments import (
    GENESIS,
    START,
    ChainLink,
    CorruptSegment,
    decode_segment,
    encode_segment,
    sha256,
    verify_chain,
)
from redactor.storage import keys

T0 = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
UPLOAD = "QJRBtNs_2IIGddr9V418jA"
LONG_AGO = T0 - timedelta(days=1)


def event(minute: int, tenant: str = "acme", kind: ObjectKind = ObjectKind.ORIGINAL) -> AuditEvent:
    return AuditEvent(
        event=AuditAction.DELETED,
        upload_id=UPLOAD,
        tenant=tenant,
        kind=kind,
        reason=Reason.RETENTION,
        at=T0 + timedelta(minutes=minute),
        by="host:1",
        deadline=T0,
    )


def chain(count: int) -> tuple[list[tuple[int, bytes]], ChainLink]:
    """``count`` segments of two events each, and the chain's end."""
    segments, link = [], START
    for n in range(count):
        data, link = encode_segment(
            [event(2 * n), event(2 * n + 1, kind=ObjectKind.RESULT)],
            after=link,
            last_entry=f"{n}-0",
        )
        segments.append((link.seq, data))
    return segments, link


def test_a_segment_is_gzipped_json_lines_with_a_header_and_decodes_to_its_events() -> None:
    events = [event(0), event(1, kind=ObjectKind.REPORT)]
    data, link = encode_segment(events, after=START, last_entry="17-3")

    lines = gzip.decompress(data).decode().splitlines()
    assert len(lines) == 3 and '"audit_segment": 1' in lines[0]
    header, decoded = decode_segment(data)
    assert decoded == events
    assert (header.seq, header.tenant, header.prev_sha256, header.count) == (1, "acme", GENESIS, 2)
    assert (header.first_at, header.last_at, header.last_entry) == (T0, events[1].at, "17-3")
    assert link == ChainLink(1, sha256(data), events[1].at)


def test_the_same_events_after_the_same_link_give_the_same_bytes() -> None:
    """An archiver that died before recording its work rewrites identical segments."""
    first, _ = encode_segment([event(0)], after=START, last_entry="1-0")
    again, _ = encode_segment([event(0)], after=START, last_entry="1-0")
    assert first == again


def test_a_segment_holds_one_tenant() -> None:
    with pytest.raises(ValueError, match="one tenant"):
        encode_segment([event(0), event(1, tenant="globex")], after=START, last_entry="1-0")


def test_an_intact_chain_verifies() -> None:
    segments, head = chain(4)
    assert verify_chain(segments, head, retained_after=LONG_AGO) == []


def test_given_segments_beyond_the_recorded_head_then_they_still_verify() -> None:
    """An archiver died after writing them and before recording the head."""
    segments, _ = chain(3)
    _, head_before = chain(2)
    assert verify_chain(segments, head_before, retained_after=LONG_AGO) == []


def test_given_an_edited_segment_then_its_successor_no_longer_links() -> None:
    segments, head = chain(3)
    header_and_events = gzip.decompress(segments[1][1]).decode()
    edited = header_and_events.replace('"original"', '"result"', 1)
    segments[1] = (2, gzip.compress(edited.encode(), mtime=0))

    problems = verify_chain(segments, head, retained_after=LONG_AGO)
    assert problems == ["segment 2 was altered: segment 3 holds another hash"]


def test_given_the_newest_segment_edited_then_the_head_catches_it() -> None:
    segments, head = chain(2)
    text = gzip.decompress(segments[1][1]).decode().replace("host:1", "host:2")
    segments[1] = (2, gzip.compress(text.encode(), mtime=0))
    assert verify_chain(segments, head, retained_after=LONG_AGO) == [
        "segment 2 was altered: the recorded head holds another hash"
    ]


def test_given_bytes_that_are_not_a_segment_then_reported_and_decode_refuses() -> None:
    segments, head = chain(2)
    segments[0] = (1, segments[0][1][:20])
    assert verify_chain(segments, head, retained_after=LONG_AGO)[0].startswith("segment 1:")
    with pytest.raises(CorruptSegment):
        decode_segment(b"not gzip")


@pytest.mark.parametrize(
    ("removed", "expected"),
    [
        (1, "segment 2 is missing"),
        (3, "segment 4 is missing (the newest the log recorded)"),
        (0, "segment 1 is missing (not by retention)"),
    ],
    ids=["middle", "newest", "oldest"],
)
def test_given_a_removed_segment_then_the_chain_does_not_verify(
    removed: int, expected: str
) -> None:
    segments, head = chain(4)
    del segments[removed]
    assert verify_chain(segments, head, retained_after=LONG_AGO) == [expected]


def test_given_the_oldest_segments_removed_by_retention_then_the_rest_verifies() -> None:
    segments, head = chain(4)
    # Segment 2 ended at T0 + 3 min: gone by retention only if the cut is later than that.
    assert verify_chain(segments[2:], head, retained_after=T0 + timedelta(minutes=4)) == []
    assert verify_chain(segments[2:], head, retained_after=T0) == [
        "segment 2 is missing (not by retention)"
    ]


def test_given_every_segment_removed_then_the_head_says_so() -> None:
    _, head = chain(2)
    assert verify_chain([], head, retained_after=LONG_AGO) == [
        "segments 1 to 2 are missing (the newest the log recorded)"
    ]


def test_segment_keys_sort_by_number_and_name_their_tenant() -> None:
    key = keys.segment_key("acme", 42)
    assert key == "audit/acme/000000000042.jsonl.gz"
    assert keys.segment_number(key) == 42
    assert keys.validate_prefix("audit/acme/") == "audit/acme/"
    with pytest.raises(keys.InvalidKey):
        keys.segment_number(keys.original_key("acme", UPLOAD))
