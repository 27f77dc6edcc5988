"""Postal addresses: a street with a house number, a P.O. box, or a postcode in context.

A line with any of these is an address line and is redacted whole (the city between
the street and the postcode is just as personal). Postcodes need context, because a
bare number is everywhere on packaging: a city and state code or "ZIP" before a ZIP code, a
city name after a Dutch, Czech or 5-digit (DE/FR/IT/ES) postcode; UK postcodes have a
shape of their own. Lines next to an address line are handled by the block rule.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redactor.pii.base import ADDRESS, PiiMatch, word_set

_NUMBER = r"\d{1,5}[A-Za-z]?(?:[\-/]\d{1,5}[A-Za-z]?)?"
_WORD = r"[A-ZÀ-Ý][\w'’\-]*\.?"
_STREET_EN = (
    r"(?i:street|st|road|rd|avenue|ave|lane|ln|drive|dr|boulevard|blvd|court|ct|place|pl|"
    r"terrace|close|crescent|square|sq|highway|hwy|parkway|pkwy|circle|cir|trail|"
    r"way|row|mews|gardens|grove)"
)
_STREET_FR = r"(?i:rue|avenue|av\.|boulevard|bd|place|chemin|all[ée]e|impasse|quai|route|cours)"
#: Street words written as a suffix (Hauptstraße, Dorpsweg) in DE/NL/AT/CH/CZ/DK.
_STREET_SUFFIX = (
    r"(?i:stra(?:ß|ss)e|str\.|weg|gasse|platz|allee|damm|ufer|chaussee|straat|laan|plein|"
    r"gracht|kade|singel|dijk|steeg|vej|gatan|vägen|ulice|náměstí|nám\.|třída|nábřeží)"
)
_HOUSE = r"\d{1,4}\s?[a-zA-Z]?(?:[\-/]\d{1,4}[a-zA-Z]?)?(?![\w])"

_STREETS = (
    re.compile(rf"(?<![\w\-]){_NUMBER},?\s+(?:{_WORD}\s+){{1,4}}{_STREET_EN}(?![\w])"),
    re.compile(
        rf"(?<![\w\-]){_NUMBER}(?:\s?(?i:bis|ter))?,?\s+{_STREET_FR}\s+"
        rf"(?:(?i:de|du|des|la|le|l'|d')\s*)*{_WORD}"
    ),
    re.compile(rf"(?<![\w\-])[A-ZÀ-Ý][\w'’\-]*{_STREET_SUFFIX}\s+{_HOUSE}"),
    re.compile(rf"(?<![\w\-])(?:{_WORD}\s+){{1,3}}{_STREET_SUFFIX}\s+{_HOUSE}"),
)
_PO_BOX = re.compile(r"(?<!\w)(?i:p\.?\s?o\.?\s?box|postfach|postbus)\s+\d{1,6}(?!\d)")

_US_STATES = sorted(
    word_set(
        "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV "
        "NH NJ NM NY NC ND OH OK OR PA RI SC SD TN TX UT VT VA WA WV WI WY PR GU VI"
    )
)
_CITY = r"(?:[A-ZÀ-Ý][a-zà-ÿěščřžýáíéůúňťď'\-]{2,}|[A-ZÀ-Ý]{3,})"
#: Words after a number that are units or packaging words, not cities.
_NOT_CITY = word_set(
    "units items pack pcs pieces sheets count pages calories kcal watt watts volt years days "
    "hours minutes miles points stück stk tabs tablets capsules servings rolls bags cups"
)
_POSTCODES = (
    re.compile(
        rf"(?<![\w]){_CITY},?\s+(?:{'|'.join(_US_STATES)})\.?,?\s+\d{{5}}(?:-\d{{4}})?(?!\d)"
    ),
    re.compile(r"(?<!\w)(?i:zip(?:\s?code)?)\s*:?\s*\d{5}(?:-\d{4})?(?!\d)"),
    re.compile(
        r"(?<![\w\-])(?:[A-Z]{1,2}\d[A-Z\d]?|GIR) ?\d(?!GB|TB|HZ|LB)[ABD-HJLNP-UW-Z]{2}(?!\w)"
    ),
    re.compile(rf"(?<![\w\-])[1-9]\d{{3}} ?(?!SA|SD|SS)[A-Z]{{2}}\s+(?P<city>{_CITY})"),
    re.compile(rf"(?<![\w\-])\d{{3}} \d{{2}}\s+(?P<city>{_CITY})"),
    re.compile(rf"(?<![\w\-])(?:[A-Z]{{1,2}}-)?\d{{5}}\s+(?P<city>{_CITY})"),
    re.compile(r"(?<!\w)(?:A|B|CH|D|DK|L|NL|CZ)-\d{4,5}(?!\d)"),
)


def _is_city(m: re.Match[str]) -> bool:
    city = m.groupdict().get("city")
    return city is None or city.casefold() not in _NOT_CITY


def _address_rule(text: str) -> str | None:
    if any(p.search(text) for p in _STREETS):
        return "street"
    if _PO_BOX.search(text):
        return "po-box"
    if any(_is_city(m) for p in _POSTCODES for m in p.finditer(text)):
        return "postcode"
    return None


class AddressRecognizer:
    """Flags the whole line when it holds a street, a P.O. box or a postcode."""

    kind = ADDRESS

    def find(self, text: str) -> Iterator[PiiMatch]:
        rule = _address_rule(text)
        if rule is not None:
            yield PiiMatch(0, len(text), self.kind, rule)
