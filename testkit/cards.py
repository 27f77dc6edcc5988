"""The lines of common cards that carry personal data, with invented (seeded) people.

Each function draws from ``fake`` in reading order, so a seed always gives the same card.
"""

from __future__ import annotations

from faker import Faker

from testkit.panels import Segment, pii
from testkit.people import grouped, ups_number, valid_phone

Lines = list[list[Segment]]


def us_shipping_label(fake: Faker, *, tracking: bool = True) -> Lines:
    """SHIP TO: name, street, city line, phone, UPS tracking number (optional), e-mail."""
    lines = [
        [Segment("SHIP TO:")],
        [pii(f"{fake.first_name()} {fake.last_name()}", "pii.name")],
        [pii(fake.street_address(), "pii.address")],
        [pii(f"{fake.city()}, {fake.state_abbr()} {fake.zipcode()}", "pii.address")],
        [Segment("Tel: "), pii(valid_phone(fake, "(###) ###-####", "US"), "pii.phone")],
    ]
    if tracking:
        lines.append([Segment("TRACKING #: "), pii(ups_number(fake), "pii.tracking")])
    lines.append([Segment("E-mail: "), pii(fake.free_email(), "pii.email")])
    return lines


def uk_business_card(fake: Faker) -> Lines:
    """Name, job title, e-mail, mobile number and a two-line address."""
    return [
        [pii(f"{fake.first_name()} {fake.last_name()}", "pii.name")],
        [Segment("Sales Manager")],
        [pii(fake.company_email(), "pii.email")],
        [Segment("Mobile "), pii(valid_phone(fake, "+44 20 7### ####", "GB"), "pii.phone")],
        [pii(fake.street_address().replace("\n", ", "), "pii.address")],
        [pii(f"{fake.city()} {fake.postcode()}", "pii.address")],
    ]


def de_remittance(fake: Faker) -> Lines:
    """A German payee block: Empfänger, name, street, postcode and city, IBAN."""
    return [
        [Segment("Empfänger:")],
        [pii(f"{fake.first_name()} {fake.last_name()}", "pii.name")],
        [pii(fake.street_address(), "pii.address")],
        [pii(f"{fake.postcode()} {fake.city()}", "pii.address")],
        [Segment("IBAN "), pii(grouped(fake.iban()), "pii.iban")],
    ]
