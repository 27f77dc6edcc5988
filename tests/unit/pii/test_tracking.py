from __future__ import annotations

import pytest

from redactor.pii.tracking import TrackingRecognizer, s10_valid, ups_valid
from tests.unit.pii.support import found, rules

POSITIVES = [
    ("1Z999AA10123456784", "1Z999AA10123456784", "ups"),
    ("TRACKING #: 1Z 999 AA1 01 2345 6784", "1Z 999 AA1 01 2345 6784", "ups"),
    ("RR123456785GB", "RR123456785GB", "s10"),  # Royal Mail / UPU S10
    ("EE 123 456 785 US", "EE 123 456 785 US", "s10"),
    ("9400 1000 0000 0000 0000 06", "9400 1000 0000 0000 0000 06", "usps"),
    ("JJD0099999999999999", "JJD0099999999999999", "dhl"),
    ("FedEx 1234 5678 9012", "1234 5678 9012", "fedex"),
    ("DHL Express 1234567891", "1234567891", "dhl"),
    ("Tracking No: ZX99887766AB", "ZX99887766AB", "cue"),
]

NEGATIVES = [
    "1Z999AA10123456785",  # UPS check digit wrong
    "RR123456784GB",  # S10 check digit wrong
    "1234 5678 9012",  # FedEx-shaped, but no carrier on the line
    "1234567891",  # DHL-shaped, but no carrier on the line
    "4006381333931",
    "4111111111111111",
    "ABC-12345",
    "TC #2034 2049 1021 1007 5519",
    "TRANS ID - 2516267815C098E0",
]


@pytest.mark.parametrize(("text", "expected", "rule"), POSITIVES)
def test_given_a_tracking_number_then_it_is_found(text: str, expected: str, rule: str) -> None:
    recognizer = TrackingRecognizer()
    assert expected in found(recognizer, text)
    assert rule in rules(recognizer, text)


@pytest.mark.parametrize("text", NEGATIVES)
def test_given_no_tracking_number_then_nothing_is_found(text: str) -> None:
    assert found(TrackingRecognizer(), text) == []


def test_check_digit_helpers() -> None:
    assert ups_valid("1Z999AA10123456784")
    assert not ups_valid("1Z999AA10123456780")
    assert s10_valid("RR123456785GB")
    assert not s10_valid("RR123456780GB")
