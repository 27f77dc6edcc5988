"""The label lexicon: field labels, document titles, state names and specimen words as data.

The phrases live in ``labels/*.tsv`` (one file per language; see its README), so adding
a language is adding lines. A phrase is matched on its *key*: its letters and digits,
accents dropped, case folded, so "Date of birth", "DATE OF BIRTH" and "Dateofbirth"
are one key. OCR garbles small print, so a key also matches within a few edits (one in
5-9 characters, two from 10), found through an index of deletions (the SymSpell idea)
instead of comparing against every phrase. Short keys ("sex", "dob", "name") must match
exactly: one edit turns "name" into "game".

Labels are looked for where labels start: at the beginning of a line, after a ``/``
(multilingual labels: "Nom/Surname/Apellidos"), after a field number ("4a", "3.") and
right after another label ("Birthdate Category Sex") or a field number anywhere on the
line ("15 SEX M 15 HGT 5-08").
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

#: Kinds of field label whose presence marks an identity document.
DOCUMENT_KINDS = frozenset(
    {
        "surname",
        "given_names",
        "date_of_birth",
        "place_of_birth",
        "nationality",
        "sex",
        "document_number",
        "personal_number",
        "date_of_issue",
        "date_of_expiry",
        "place_of_issue",
        "authority",
        "signature",
        "height",
        "eye_colour",
    }
)
#: Words kept inside documents when a line holds nothing else.
TITLE, STATE, SPECIMEN = "title", "state", "specimen"
KEPT_KINDS = frozenset({TITLE, STATE, SPECIMEN})
#: Words that are values, never labels ("Female", "Masculin"): found, so that a line
#: holding one is not taken for label text.
VALUE = "value"
#: Words a line may end or start with around a label: a field number ("4a", "3.").
_FIELD_NUMBER = re.compile(r"^\d{1,2}[a-z]?[.:)]?$", re.IGNORECASE)
#: Where one label may end and the next begin.
_SEPARATORS = "/|:"
_TOKEN = re.compile(rf"[^\s{re.escape(_SEPARATORS)}]+")
#: Longest label, in words.
MAX_LABEL_WORDS = 7
#: A word of at most this many characters read with edits right after a label is that
#: label's value, not another label (see :func:`_value_after_label`).
SHORT_FUZZY_CHARS = 6
#: Longer keys must match exactly (their deletions would cost more than they find).
MAX_FUZZY_CHARS = 24
#: A first word longer than this may be several words OCR ran together.
MAX_FIRST_WORD_CHARS = 10
#: Lines remembered with their labels (the text rules and document mode both ask).
MEMORY = 4096
#: Long keys without digits ("Date of expiry / Date d'expiration" parts, "Given names")
#: match within this many edits: OCR garbles several letters of a long small-print
#: label, and no value of a document is that long and that close to one. Found through
#: an index of letter pairs (a key within d edits of another shares all but 2d of its
#: pairs), not the deletion index, whose size grows with the edits forgiven. The read may
#: hold one digit, a letter OCR took for one ("ISSU2"); two digits are a value's.
LONG_KEY_CHARS = 14
LONG_KEY_EDITS = 3
LONG_READ_DIGITS = 1
#: Letters OCR glued to the front of a label from a stray mark ("NSURNAME"): at most
#: this many capitals, before a label of at least ``GLUED_MIN_CHARS`` characters matched
#: exactly ("COUNTRY" is "UNTRY", one edit from "Entry", after two).
MAX_GLUED = 2
GLUED_MIN_CHARS = 6
GLUED_MAX_EDITS = 0
#: Characters of a word left after a label's head for another label to start with,
#: when OCR glued two labels into one word ("Dokumentnumme|ate of expiry").
SPLIT_MIN_TAIL = 2
#: A title of this many words, read exactly, is one wherever it starts in a line.
TITLE_ANYWHERE_WORDS = 3


def key(text: str) -> str:
    """The letters and digits of ``text``, accents dropped and case folded; a lone
    character keeps a number sign after it: the label "A#" (an alien number) is not
    the letter "A", a licence category or a one-letter value."""
    decomposed = unicodedata.normalize("NFKD", text)
    letters = "".join(c for c in decomposed.casefold() if c.isalnum())
    return letters + "#" if len(letters) == 1 and "#" in text else letters


def edit_budget(length: int) -> int:
    """Edits forgiven in a key of ``length`` characters."""
    return 0 if length <= 4 else 1 if length <= 9 else 2


def edit_distance(a: str, b: str, limit: int) -> int:
    """Levenshtein distance, or ``limit + 1`` as soon as it must exceed ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb))
        if min(current) > limit:
            return limit + 1
        previous = current
    return previous[-1]


def _pairs(word: str) -> Counter[str]:
    """The letter pairs (bigrams) of ``word``, counted."""
    return Counter(word[i : i + 2] for i in range(len(word) - 1))


def _long(k: str) -> bool:
    """Whether ``k`` is a key matched within :data:`LONG_KEY_EDITS` edits."""
    return len(k) >= LONG_KEY_CHARS and not any(c.isdigit() for c in k)


def _near_long(k: str) -> bool:
    """Whether ``k`` may be a long key read with :data:`LONG_KEY_EDITS` edits: at most
    :data:`LONG_READ_DIGITS` digits ("DAIS OF ISSU2"), and at most that many characters
    shorter ("Counry of Buth" for "Country of birth")."""
    return (
        len(k) >= LONG_KEY_CHARS - LONG_KEY_EDITS
        and sum(c.isdigit() for c in k) <= LONG_READ_DIGITS
    )


def _deletions(word: str, depth: int) -> set[str]:
    """``word`` with up to ``depth`` characters deleted, every way."""
    found = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        found |= frontier
    return found


@dataclass(frozen=True, slots=True)
class LabelMatch:
    """``text[start:end]`` of a line is a label of ``kind``, ``edits`` away from the lexicon."""

    start: int
    end: int
    kind: str
    edits: int


class Lexicon:
    """Phrase keys by kind, indexed for matching with a few edits."""

    def __init__(self, phrases: Mapping[str, str]) -> None:
        """``phrases``: kind by phrase."""
        self.kinds: dict[str, str] = {}
        for phrase, kind in phrases.items():
            k = key(phrase)
            if k and k not in self.kinds:
                self.kinds[k] = kind
        self._index: dict[str, set[str]] = {}
        for k in self.kinds:
            for variant in _deletions(k, edit_budget(len(k))):
                self._index.setdefault(variant, set()).add(k)
        self._max_chars = max((len(k) for k in self.kinds), default=0) + 2
        #: Long keys by letter pair and length, with the pair's count in the key.
        self._pair_index: dict[tuple[str, int], list[tuple[str, int]]] = {}
        for k in self.kinds:
            if _long(k):
                for p, count in _pairs(k).items():
                    self._pair_index.setdefault((p, len(k)), []).append((k, count))
        #: Deletions (one) of every phrase's first word: a span whose first word is not
        #: near one of them cannot start a label, and is not looked up letter by letter.
        self._starts = {v for p in phrases for v in _deletions(key(p.split()[0]), 1) if p.split()}
        #: The first words of titles, for :meth:`_title_at`, and the keys of every title's
        #: first words short of the whole, for :meth:`title_head`.
        self._title_starts = {key(p.split()[0]) for p, kind in phrases.items() if kind == TITLE}
        self._title_heads = {
            key(" ".join(p.split()[:n]))
            for p, kind in phrases.items()
            if kind == TITLE
            for n in range(1, len(p.split()))
        }
        self._memory: dict[str, tuple[LabelMatch, ...]] = {}

    def title_head(self, text: str) -> bool:
        """Whether ``text`` is exactly the first words of a title of more words (the first
        line of a title printed over two)."""
        return key(text) in self._title_heads

    def lookup(self, text: str) -> tuple[str, int] | None:
        """The kind of the phrase ``text`` is, and the edits it took; None if none."""
        k = key(text)
        if not k or len(k) > self._max_chars:
            return None
        exact = self.kinds.get(k)
        if exact is not None:
            return exact, 0
        best: tuple[str, int] | None = None
        if len(k) <= MAX_FUZZY_CHARS:
            budget = edit_budget(len(k))
            candidates = {c for v in _deletions(k, budget) for c in self._index.get(v, ())}
            for candidate in candidates:
                limit = min(budget, edit_budget(len(candidate)))
                edits = edit_distance(k, candidate, limit)
                if edits <= limit and (best is None or edits < best[1]):
                    best = (self.kinds[candidate], edits)
        if best is None and _near_long(k):
            best = self._long_lookup(k)
        return best

    def _long_lookup(self, k: str) -> tuple[str, int] | None:
        """The long key within :data:`LONG_KEY_EDITS` edits of ``k``, through the letter
        pair index: only keys sharing enough of ``k``'s pairs are compared."""
        shared: dict[str, int] = {}
        lengths = range(max(LONG_KEY_CHARS, len(k) - LONG_KEY_EDITS), len(k) + LONG_KEY_EDITS + 1)
        for p, count in _pairs(k).items():
            for length in lengths:
                for candidate, other in self._pair_index.get((p, length), ()):
                    shared[candidate] = shared.get(candidate, 0) + min(count, other)
        best: tuple[str, int] | None = None
        for candidate, count in shared.items():
            if count < max(len(k), len(candidate)) - 1 - 2 * LONG_KEY_EDITS:
                continue
            edits = edit_distance(k, candidate, LONG_KEY_EDITS)
            if edits <= LONG_KEY_EDITS and (best is None or edits < best[1]):
                best = (self.kinds[candidate], edits)
        return best

    def find(self, text: str) -> list[LabelMatch]:
        """The labels of one line, left to right, where labels can start."""
        found = self._memory.get(text)
        if found is None:
            if len(self._memory) >= MEMORY:
                self._memory.clear()
            found = self._memory[text] = tuple(self._find(text))
        return list(found)

    def _find(self, text: str) -> list[LabelMatch]:
        tokens = [(m.start(), m.end()) for m in _TOKEN.finditer(text)]
        matches: list[LabelMatch] = []
        i = 0
        while i < len(tokens):
            if not self._can_start(text, tokens, i, matches):
                title = self._title_at(text, tokens, i)
                if title is None:
                    i += 1
                    continue
                match, i = title
                matches.append(match)
                continue
            found = self._longest(text, tokens, i)
            if (
                found is None
                or (found[0].kind == STATE and _after_letter(text, tokens, i))
                or (
                    found[0].edits
                    and found[0].end - found[0].start <= SHORT_FUZZY_CHARS
                    and _value_after_label(text, tokens, i, matches)
                )
            ):
                i += 1
                continue
            match, i = found
            split = self._split(text, tokens, match, i) if match.edits else None
            if split is not None:
                head, match, i = split
                matches.append(head)
            matches.append(match)
        return matches

    def _title_at(
        self, text: str, tokens: list[tuple[int, int]], i: int
    ) -> tuple[LabelMatch, int] | None:
        """A document title of :data:`TITLE_ANYWHERE_WORDS` words or more, read without an
        edit, starting at token ``i`` where no label can start: after a word no label
        explains ("DUPLICADO DOCUMENTO NACIONAL DE IDENTIDAD"). Such a phrase is a
        title wherever it stands; a shorter one ("IDENTITY CARD") may be a product's
        name."""
        if key(text[tokens[i][0] : tokens[i][1]]) not in self._title_starts:
            return None
        found = self._longest_from(text, tokens, i, 0)
        if found is None:
            return None
        match, end = found
        if match.kind != TITLE or match.edits or end - i < TITLE_ANYWHERE_WORDS:
            return None
        return found

    def _split(
        self, text: str, tokens: list[tuple[int, int]], match: LabelMatch, i: int
    ) -> tuple[LabelMatch, LabelMatch, int] | None:
        """Two labels OCR glued into one word, which ``match`` (ending with token
        ``i - 1``, matched with edits) swallowed whole ("Dokumentnummeate of expiry":
        "Dokumentnumme" + "ate of expiry"): the head of the word a label, its tail and
        the words after it another, in no more edits than ``match`` took. The tail label
        must go on past the word (more words explained) and be :data:`GLUED_MIN_CHARS`
        long; else None."""
        if i >= len(tokens):
            return None
        word_start, word_end = tokens[i - 1]
        best: tuple[LabelMatch, LabelMatch, int] | None = None
        for cut in range(word_start + 1, word_end - SPLIT_MIN_TAIL + 1):
            # the head takes fewer edits than the whole word, so the whole word is at
            # most that many more characters than the label: the cut piece is short
            short = len(key(text[cut:word_end])) < 2 * match.edits
            if not (short and text[cut].isalpha() and self._can_begin(text[cut:word_end])):
                continue
            head_found = self.lookup(text[match.start : cut])
            if head_found is None or head_found[1] >= match.edits:
                continue
            tail = self._longest_from(text, tokens, i - 1, cut - word_start, split=True)
            if tail is None or tail[1] <= i:
                continue
            edits = head_found[1] + tail[0].edits
            if edits > match.edits or len(key(text[cut : tail[0].end])) < GLUED_MIN_CHARS:
                continue
            if best is None or edits < best[0].edits + best[1].edits:
                best = (LabelMatch(match.start, cut, *head_found), tail[0], tail[1])
        return best

    def _can_start(
        self, text: str, tokens: list[tuple[int, int]], i: int, matches: list[LabelMatch]
    ) -> bool:
        if i == 0:
            return True
        previous = text[tokens[i - 1][0] : tokens[i - 1][1]]
        follows_label = bool(matches) and matches[-1].end == tokens[i - 1][1]
        # one character at the start or between two labels: a stray mark or a separator
        # OCR read as a letter ("S Personas kods", "RESIDENCE PERMIT F PERMIS DE SEJOUR"),
        # or a one-letter value ("Sex F Height")
        after_one = len(key(previous)) <= 1 and (
            i == 1 or (bool(matches) and matches[-1].end == tokens[i - 2][1])
        )
        return (
            _separated(text, tokens, i)
            or follows_label
            or after_one
            or _FIELD_NUMBER.match(previous) is not None
        )

    def _can_begin(self, token: str) -> bool:
        k = key(token)
        if len(k) > MAX_FIRST_WORD_CHARS:
            return True  # words run together ("Dateofbirth")
        return bool(_deletions(k, 1) & self._starts)

    def _ends(self, text: str, tokens: list[tuple[int, int]], i: int) -> list[int]:
        """Token ends a label starting at token ``i`` may have: up to
        :data:`MAX_LABEL_WORDS` words, where letters OCR spaced out one by one
        ("A l s o k n o w n a s", common beside CJK text) count as one word."""
        ends: list[int] = []
        words = chars = 0
        for j in range(i, len(tokens)):
            token = key(text[tokens[j][0] : tokens[j][1]])
            chars += len(token)
            words += (
                len(token) > 1 or j == i or len(key(text[tokens[j - 1][0] : tokens[j - 1][1]])) > 1
            )
            if words > MAX_LABEL_WORDS or chars > self._max_chars:
                break
            ends.append(j + 1)
        return ends

    def _longest(
        self, text: str, tokens: list[tuple[int, int]], i: int
    ) -> tuple[LabelMatch, int] | None:
        """The best label starting at token ``i`` (longest, then fewest edits), or after
        one or two capitals OCR glued to its front (:func:`_glued`), which it then
        starts with."""
        token = text[tokens[i][0] : tokens[i][1]]
        best = self._longest_from(text, tokens, i, 0) if self._can_begin(token) else None
        if best is None:
            glued = [
                found
                for skip in _glued(token)
                if self._can_begin(token[skip:])
                and (found := self._longest_from(text, tokens, i, skip))
            ]
            best = max(glued, key=lambda f: _score(text, f[0]), default=None)
            if best is not None:
                # the glued capitals are a stray mark: label text with the label
                best = (replace(best[0], start=tokens[i][0]), best[1])
        return best

    def _longest_from(
        self,
        text: str,
        tokens: list[tuple[int, int]],
        i: int,
        skip: int,
        split: bool = False,
    ) -> tuple[LabelMatch, int] | None:
        """The best label from character ``skip`` of token ``i``; after glued capitals
        (``skip`` > 0, not a ``split`` word's tail: :meth:`_split`) only a label of
        :data:`GLUED_MIN_CHARS` characters within :data:`GLUED_MAX_EDITS` edits."""
        best: tuple[LabelMatch, int] | None = None
        for j in reversed(self._ends(text, tokens, i)):
            start, end = tokens[i][0] + skip, tokens[j - 1][1]
            if any(s in text[start:end] for s in _SEPARATORS[:2]) and j - i > 1:
                continue
            found = self.lookup(text[start:end])
            if found is None:
                continue
            if (
                skip
                and not split
                and (found[1] > GLUED_MAX_EDITS or len(key(text[start:end])) < GLUED_MIN_CHARS)
            ):
                continue
            if found[1] and j - i > 1 and _lone_letter(text, tokens, i):
                continue
            match = LabelMatch(start, end, *found)
            if best is None or _score(text, match) > _score(text, best[0]):
                best = (match, j)
        return best


def _value_after_label(
    text: str, tokens: list[tuple[int, int]], i: int, matches: list[LabelMatch]
) -> bool:
    """Whether token ``i`` comes right after a label with nothing but a space between:
    there, a short word that only looks like a label (read with edits) is that label's
    value ("AUSGESTELLT IN WESEL": the town, one edit from the Polish label "PESEL").
    Labels in other languages are joined with a separator, matched exactly, or long."""
    if not matches or i == 0 or matches[-1].end != tokens[i - 1][1]:
        return False
    return not _separated(text, tokens, i)


def _after_letter(text: str, tokens: list[tuple[int, int]], i: int) -> bool:
    """Whether token ``i`` follows one character with no separator between: a state
    there is a nationality after a sex ("M UKRAINE"), a value."""
    return (
        i >= 1
        and len(key(text[tokens[i - 1][0] : tokens[i - 1][1]])) <= 1
        and not _separated(text, tokens, i)
    )


def _separated(text: str, tokens: list[tuple[int, int]], i: int) -> bool:
    """Whether a separator ("/", "|", ":") stands between token ``i - 1`` and ``i``."""
    return any(s in text[tokens[i - 1][1] : tokens[i][0]] for s in _SEPARATORS)


def _lone_letter(text: str, tokens: list[tuple[int, int]], i: int) -> bool:
    """Whether token ``i`` is one character before a word: a value ("Sex F Height") or
    a misread separator, not the first letter of a label matched with edits ("F Height"
    is one edit from "Height"); letters spaced out one by one do not count."""
    return (
        len(key(text[tokens[i][0] : tokens[i][1]])) == 1
        and len(key(text[tokens[i + 1][0] : tokens[i + 1][1]])) > 1
    )


def _score(text: str, match: LabelMatch) -> int:
    """How good a label ``match`` is: longer, then fewer edits."""
    return len(key(text[match.start : match.end])) - 3 * match.edits


def _glued(token: str) -> list[int]:
    """How many leading characters of ``token`` may be capitals OCR glued to a label
    ("NSURNAME": a stray mark read as "N"): 1 or 2 capitals, before a capital."""
    return [
        n
        for n in range(1, MAX_GLUED + 1)
        if len(token) > n and token[: n + 1].isalpha() and token[: n + 1].isupper()
    ]


def _read(name: str) -> dict[str, str]:
    phrases: dict[str, str] = {}
    text = resources.files("redactor.documents").joinpath("labels", name).read_text("utf-8")
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        kind, sep, phrase = line.partition("\t")
        if not sep or not phrase.strip():
            raise ValueError(f"labels/{name} line {number}: expected 'kind<TAB>phrase'")
        phrases.setdefault(phrase.strip(), kind.strip())
    return phrases


@cache
def default_lexicon() -> Lexicon:
    """Every file in ``labels/``, loaded once per process."""
    folder = resources.files("redactor.documents").joinpath("labels")
    phrases: dict[str, str] = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".tsv"):
            for phrase, kind in _read(entry.name).items():
                phrases.setdefault(phrase, kind)
    return Lexicon(phrases)
