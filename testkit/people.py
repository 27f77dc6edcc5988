"""Invented personal data (Faker, seeded) in the shapes the PII rules must recognise."""

from __future__ import annotations

import phonenumbers
from faker import Faker

from redactor.pii.tracking import s10_valid, ups_valid


def faker(locale: str, seed: int) -> Faker:
    fake = Faker(locale)
    fake.seed_instance(seed)
    return fake


def valid_phone(fake: Faker, pattern: str, region: str) -> str:
    """A number in ``pattern`` ("#" = digit) that libphonenumber accepts for ``region``."""
    for _ in range(2000):
        number = fake.numerify(pattern)
        if phonenumbers.is_valid_number(phonenumbers.parse(number, region)):
            return number
    raise ValueError(f"no valid {region} phone number for the pattern {pattern}")


def ups_number(fake: Faker, middle: str = "###???##") -> str:
    """A UPS 1Z tracking number with a correct check digit, printed in the carrier's groups.

    ``middle`` is the Faker pattern of the eight characters after "1Z" ("#" digit, "?"
    letter); the check digit is the one :func:`redactor.pii.tracking.ups_valid` accepts.
    """
    body = "1Z" + fake.bothify(middle).upper() + fake.numerify("#######")
    n = next(body + d for d in "0123456789" if ups_valid(body + d))
    return f"{n[:2]} {n[2:5]} {n[5:8]} {n[8:10]} {n[10:14]} {n[14:]}"


def s10_number(fake: Faker, country: str = "GB") -> str:
    """A UPU S10 item number (Royal Mail style) with a correct check digit."""
    body = fake.lexify("??").upper() + fake.numerify("########")
    return next(body + d + country for d in "0123456789" if s10_valid(body + d + country))


def grouped(value: str, size: int = 4) -> str:
    """``value`` in groups of ``size`` characters, as card numbers and IBANs are printed."""
    return " ".join(value[i : i + size] for i in range(0, len(value), size))
