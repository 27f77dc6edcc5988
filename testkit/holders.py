"""Invented holders of generated identity documents and what is printed about them.

The holder (Faker, seeded), the label wording per language, the printed date form and
the machine-readable zone with valid check digits (ICAO 9303). The state is ICAO's own
specimen state, Utopia (``UTO``). :mod:`testkit.documents` draws them; nothing here is
shipped.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
from faker import Faker

from redactor.documents.mrz import check_digit

#: Second label language per document, with Faker's locale for the holder.
LANGUAGES: dict[str, tuple[str, dict[str, str]]] = {
    "fr": (
        "fr_FR",
        {
            "surname": "Nom",
            "given": "Prénoms",
            "birth": "Date de naissance",
            "place": "Lieu de naissance",
            "nationality": "Nationalité",
            "sex": "Sexe",
            "number": "N° du document",
            "expiry": "Date d'expiration",
            "issue": "Date de délivrance",
            "signature": "Signature du titulaire",
        },
    ),
    "de": (
        "de_DE",
        {
            "surname": "Name",
            "given": "Vornamen",
            "birth": "Geburtsdatum",
            "place": "Geburtsort",
            "nationality": "Staatsangehörigkeit",
            "sex": "Geschlecht",
            "number": "Dokumentennummer",
            "expiry": "Gültig bis",
            "issue": "Ausstellungsdatum",
            "signature": "Unterschrift",
        },
    ),
    "es": (
        "es_ES",
        {
            "surname": "Apellidos",
            "given": "Nombre",
            "birth": "Fecha de nacimiento",
            "place": "Lugar de nacimiento",
            "nationality": "Nacionalidad",
            "sex": "Sexo",
            "number": "Número de documento",
            "expiry": "Fecha de caducidad",
            "issue": "Fecha de expedición",
            "signature": "Firma del titular",
        },
    ),
    "it": (
        "it_IT",
        {
            "surname": "Cognome",
            "given": "Nome",
            "birth": "Data di nascita",
            "place": "Luogo di nascita",
            "nationality": "Cittadinanza",
            "sex": "Sesso",
            "number": "Numero documento",
            "expiry": "Data di scadenza",
            "issue": "Data di rilascio",
            "signature": "Firma del titolare",
        },
    ),
    "pt": (
        "pt_PT",
        {
            "surname": "Apelido",
            "given": "Nome próprio",
            "birth": "Data de nascimento",
            "place": "Local de nascimento",
            "nationality": "Nacionalidade",
            "sex": "Sexo",
            "number": "Número do documento",
            "expiry": "Data de validade",
            "issue": "Data de emissão",
            "signature": "Assinatura",
        },
    ),
    "nl": (
        "nl_NL",
        {
            "surname": "Achternaam",
            "given": "Voornamen",
            "birth": "Geboortedatum",
            "place": "Geboorteplaats",
            "nationality": "Nationaliteit",
            "sex": "Geslacht",
            "number": "Documentnummer",
            "expiry": "Geldig tot",
            "issue": "Datum van afgifte",
            "signature": "Handtekening",
        },
    ),
    "pl": (
        "pl_PL",
        {
            "surname": "Nazwisko",
            "given": "Imiona",
            "birth": "Data urodzenia",
            "place": "Miejsce urodzenia",
            "nationality": "Obywatelstwo",
            "sex": "Płeć",
            "number": "Numer dokumentu",
            "expiry": "Data ważności",
            "issue": "Data wydania",
            "signature": "Podpis",
        },
    ),
    "cs": (
        "cs_CZ",
        {
            "surname": "Příjmení",
            "given": "Jméno",
            "birth": "Datum narození",
            "place": "Místo narození",
            "nationality": "Státní občanství",
            "sex": "Pohlaví",
            "number": "Číslo dokladu",
            "expiry": "Platnost do",
            "issue": "Datum vydání",
            "signature": "Podpis držitele",
        },
    ),
    "sv": (
        "sv_SE",
        {
            "surname": "Efternamn",
            "given": "Förnamn",
            "birth": "Födelsedatum",
            "place": "Födelseort",
            "nationality": "Nationalitet",
            "sex": "Kön",
            "number": "Dokumentnummer",
            "expiry": "Giltig till",
            "issue": "Utfärdandedatum",
            "signature": "Namnteckning",
        },
    ),
    "ro": (
        "ro_RO",
        {
            "surname": "Nume",
            "given": "Prenume",
            "birth": "Data nașterii",
            "place": "Locul nașterii",
            "nationality": "Cetățenie",
            "sex": "Sex",
            "number": "Număr document",
            "expiry": "Data expirării",
            "issue": "Data eliberării",
            "signature": "Semnătura",
        },
    ),
}
ENGLISH = {
    "surname": "Surname",
    "given": "Given names",
    "birth": "Date of birth",
    "place": "Place of birth",
    "nationality": "Nationality",
    "sex": "Sex",
    "number": "Document No.",
    "expiry": "Date of expiry",
    "issue": "Date of issue",
    "signature": "Holder's signature",
}
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
STATE = "UTO"
HEADER = "REPUBLIC OF UTOPIA"
TITLES = {"TD1": "IDENTITY CARD", "TD3": "PASSPORT", "MRV": "VISA"}


@dataclass(frozen=True)
class Holder:
    """An invented holder (Faker, seeded): every string that must not survive."""

    surname: str
    given: str
    birth: date
    place: str
    sex: str
    number: str
    issue: date
    expiry: date


def invent_holder(fake: Faker, rng: np.random.Generator) -> Holder:
    birth = date(1950, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 55)))
    issue = date(2018, 1, 1) + timedelta(days=int(rng.integers(0, 365 * 6)))
    letters = "".join(chr(ord("A") + int(c)) for c in rng.integers(0, 26, 2))
    return Holder(
        surname=_ascii_upper(fake.last_name()),
        given=_ascii_upper(fake.first_name()),
        birth=birth,
        place=_ascii_upper(_city(fake))[:18],
        sex=str(rng.choice(["F", "M"])),
        number=letters + "".join(str(int(d)) for d in rng.integers(0, 10, 7)),
        issue=issue,
        expiry=issue + timedelta(days=365 * 10 - 1),
    )


def _city(fake: Faker) -> str:
    """``fake.city()``, but the same in every process: Faker's it_IT provider builds its
    city list from a set, whose order changes with Python's hash seed, so the seeded
    draw is read from the list sorted."""
    cities = getattr(fake.city.__self__, "cities", None)
    if isinstance(cities, list) and cities:
        return str(fake.random_element(sorted(cities)))
    return str(fake.city())


def _ascii_upper(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.upper() if c.isalpha() or c in " -")


def printed(day: date) -> str:
    return f"{day.day:02d} {MONTHS[day.month - 1]} {day.year}"


def _yymmdd(day: date) -> str:
    return f"{day.year % 100:02d}{day.month:02d}{day.day:02d}"


def _field(value: str, width: int) -> str:
    return (value.replace(" ", "<").replace("-", "<") + "<" * width)[:width]


def mrz_lines(holder: Holder, fmt: str, expiry: date | None = None) -> list[str]:
    """The holder's machine-readable zone, with valid check digits: ``fmt`` TD1, TD3 or
    MRV (an MRV-A visa, whose ``expiry`` is the visa's own last day)."""
    last_day = holder.expiry if expiry is None else expiry
    number, birth, expiry_code = holder.number, _yymmdd(holder.birth), _yymmdd(last_day)
    name = _field(f"{holder.surname}<<{holder.given}", 30 if fmt == "TD1" else 44)
    n, b, e = (str(check_digit(x)) for x in (number, birth, expiry_code))
    if fmt == "MRV":
        line2 = f"{number}{n}{STATE}{birth}{b}{holder.sex}{expiry_code}{e}"
        return [f"V<{STATE}{name}"[:44], _field(line2, 44)]
    if fmt == "TD3":
        personal = "<" * 14
        line2 = (
            f"{number}{n}{STATE}{birth}{b}{holder.sex}{expiry_code}{e}"
            f"{personal}{check_digit(personal)}"
        )
        composite = line2[0:10] + line2[13:20] + line2[21:43]
        return [f"P<{STATE}{name}"[:44], line2 + str(check_digit(composite))]
    line1 = _field(f"I<{STATE}{number}{n}", 30)
    line2 = _field(f"{birth}{b}{holder.sex}{expiry_code}{e}{STATE}", 29)
    composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
    return [line1, line2 + str(check_digit(composite)), name]
