"""Person names: after a cue ("Ship to", "Cashier:", "Dear", "Mr"), or by the name lists.

Name lists alone would flag half the supermarket ("Rose Gold", "Summer Fresh"), so a
list match needs a run of capitalised words made only of known names, one of them a
first and another a last name, or a known first name and one more capitalised word
making up a whole short line (how names sit on labels, badges and cards). Common words
that are also names never count as list matches. Brand names that are names ("Tommy
Hilfiger") belong on the allow list.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from redactor.pii.base import NAME, PiiMatch, word_set
from redactor.pii.name_lists import NameLists

#: Cues after which a name follows, with or without a colon.
_STRONG_CUES = (
    r"ship(?:ping)?\s*to|deliver(?:y|ed)?\s*to|attn\.?|attention|dear|(?:hello,?\s+)?my\s+name\s+is|"
    r"cashier|served\s+by|your\s+server|bill(?:ed)?\s*to|sold\s*to|recipient|z\.\s?hd\.?|"
    r"t\.a\.v\.?|empf[äa]nger|destinataire|p[řr][íi]jemce|[àa]\s+l'attention\s+de"
)
#: Cues that only count with a colon ("Name: Jane", not "Name tag").
_COLON_CUES = (
    r"(?:full\s+|first\s+|last\s+|sur)?name|customer|contact|patient|employee|driver|"
    r"passenger|guest|server|to|from|an|signed|card\s*holder|holder|consignee|"
    r"naam|nom|jméno|vorname|nachname"
)
#: Case-sensitive; a name must follow that the lists know, or two name-shaped words.
_HONORIFICS = (
    r"(?-i:Mr|Mrs|Ms|Miss|Mx|Herr|Frau|Dhr|Mevr|Mme|Mlle|MR|MRS|MS|MISS|Dr\.|Prof\.|DR\.|PROF\.)"
)
_TITLES = word_set("mr mrs ms miss mx herr frau dhr mevr mme mlle dr prof")
#: Words before "name" that make it someone else's name field.
_NOT_PERSONAL_NAME = re.compile(
    r"(?i:company|product|brand|file|user|host|model|business|store|shop|item|street|domain)\s*$"
)
_CUE = re.compile(
    rf"(?<!\w)(?:(?P<strong>{_STRONG_CUES})\s*[:\-–]?|(?P<colon>{_COLON_CUES})\s*:|"
    rf"(?P<honorific>{_HONORIFICS})\.?)(?=\s|$|[A-ZÀ-Ý])",
    re.IGNORECASE,
)
#: A word of letters (apostrophes and hyphens inside), not glued to digits ("DE56").
_WORD = re.compile(r"(?<![\w])[^\W\d_](?:[^\W\d_]|['’\-](?=[^\W\d_]))*\.?(?!\w)")
_PARTICLES = word_set("van von de der den da di du la le del della ter ten bin al")
#: Common words that are also first or last names, and words of packaging and receipts.
STOP_WORDS = word_set(
    """
    as ask ball bank bar be beat best black born boy can church day deep do edge else fall
    field floor from go green gun guy hand have he head hope in job just law line list little
    long low major man matter may my new no north south east west page parent per plant pm
    power price put read real rich senior short six small so song spring stage stock street
    summer tell to top wall we white will wind you young gold silver rose royal crown grand
    prime premium classic original natural organic fresh sweet sugar honey salt pepper rice
    cream milk coffee tea water wine beer lager ale juice cherry berry olive lemon lime orange
    apple mango mint ginger basil sage cocoa vanilla caramel butter brown golden light dark
    extra super ultra max mini pro plus sport sale total cash change due visa card account
    store market big box house home garden park lane hill wood stone brook ford king queen
    prince star sun moon sky river lake sea rock snow rain storm winter autumn march april
    june july august love joy faith grace happy lucky sunny baby kid kids lady phone mobile
    mail city town state country world global national united english french german dutch
    british euro dollar pound best before ingredients made care wash iron dry tel fax
    customer service support team department office sales info help desk
    """
)


@dataclass(frozen=True, slots=True)
class _Token:
    start: int
    end: int
    word: str

    @property
    def bare(self) -> str:
        return self.word.rstrip(".").casefold()


def _tokens(text: str, start: int = 0) -> list[_Token]:
    return [_Token(m.start(), m.end(), m.group()) for m in _WORD.finditer(text, start)]


def _name_shaped(token: _Token) -> bool:
    """Capitalised or all capitals, not possessive; an initial ("J.") counts."""
    word = token.word.rstrip(".")
    if word.endswith(("'s", "’s", "'S", "’S")):
        return False
    return word[:1].isupper() and (len(word) == 1 or word.isupper() or not word[1:].isupper())


def _adjacent(text: str, left: _Token, right: _Token) -> bool:
    """Only a space or a comma between two tokens (so "Ben & Jerry" is two names apart)."""
    return text[left.end : right.start].strip(" ,") == ""


def _name_run(text: str, tokens: Sequence[_Token], limit: int = 4) -> list[_Token]:
    """Name-shaped tokens (and particles such as "van") following one another from the first."""
    run: list[_Token] = []
    for token in tokens:
        if sum(_name_shaped(t) for t in run) == limit or (
            run and not _adjacent(text, run[-1], token)
        ):
            break
        if not (_name_shaped(token) or (run and token.bare in _PARTICLES)):
            break
        run.append(token)
    while run and not _name_shaped(run[-1]):
        run.pop()
    return run


def _words(run: Sequence[_Token]) -> list[str]:
    """The run's words that can be names: no initials, no particles."""
    return [t.bare for t in run if len(t.bare) >= 2 and _name_shaped(t)]


class NameRecognizer:
    kind = NAME

    def __init__(self, lists: NameLists) -> None:
        self._first = lists.first - STOP_WORDS
        self._last = lists.last - STOP_WORDS

    def find(self, text: str) -> Iterator[PiiMatch]:
        yield from self._after_cues(text)
        yield from self._by_lists(text)

    def _after_cues(self, text: str) -> Iterator[PiiMatch]:
        for cue in _CUE.finditer(text):
            if cue.group("colon") and _NOT_PERSONAL_NAME.search(text[: cue.start()]):
                continue
            run = _name_run(text, _tokens(text, cue.end()))
            while run and run[0].bare in _TITLES:
                run = run[1:]
            words = _words(run)
            if not words or all(w in STOP_WORDS for w in words):
                continue
            if cue.group("honorific"):
                if len(words) >= 2 or self._known(words[0]):
                    yield PiiMatch(run[0].start, run[-1].end, self.kind, "honorific")
            else:
                yield PiiMatch(run[0].start, run[-1].end, self.kind, "cue")

    def _known(self, word: str) -> bool:
        return word in self._first or word in self._last

    def _by_lists(self, text: str) -> Iterator[PiiMatch]:
        """Runs of capitalised words made only of known names (or a short name line)."""
        tokens = _tokens(text)
        i = 0
        while i < len(tokens):
            run = _name_run(text, tokens[i:], limit=len(tokens))
            if not run:
                i += 1
                continue
            if self._all_known_names(run):
                yield PiiMatch(run[0].start, run[-1].end, self.kind, "name-list")
            elif name_line_span(text) is not None and self._is_first_name_line(run):
                yield PiiMatch(run[0].start, run[-1].end, self.kind, "first-name-line")
            i += len(run)

    def _all_known_names(self, run: Sequence[_Token]) -> bool:
        """Two to four words, all known names, one a first and another a last name
        (both of three letters or more: two-letter names are mostly codes)."""
        words = _words(run)
        if not 2 <= len(words) <= 4 or not all(self._known(w) for w in words):
            return False
        return any(
            a in self._first and b in self._last
            for i, a in enumerate(words)
            for j, b in enumerate(words)
            if i != j and len(a) >= 3 and len(b) >= 3
        )

    def _is_first_name_line(self, run: Sequence[_Token]) -> bool:
        """Two or three words, the first or last a first name of three letters or more."""
        words = _words(run)
        return (
            2 <= len(words) <= 3
            and any(len(w) >= 3 and w in self._first for w in (words[0], words[-1]))
            and not STOP_WORDS & set(words)
        )


_NOT_NAME_CHARS = re.compile(r"[^\w\s.,'’\-]|\d")
_CUE_LINE = re.compile(
    rf"^\s*(?:{_STRONG_CUES}|{_COLON_CUES})\s*[:\-–]?\s*$",
    re.IGNORECASE,
)


def is_cue_line(text: str) -> bool:
    """A line that is only a cue ("SHIP TO:", "Hello my name is"): the name comes below."""
    return _CUE_LINE.match(text) is not None


def name_line_span(text: str) -> tuple[int, int] | None:
    """The span of a line made of one to four name-shaped words, else ``None``."""
    tokens = _tokens(text)
    run = _name_run(text, tokens)
    if not run or len(run) != len(tokens) or _NOT_NAME_CHARS.search(text):
        return None
    return (run[0].start, run[-1].end)
