"""The label lexicon in every language, and values paired with the label above or left."""

from __future__ import annotations

import pytest

from redactor.documents.fields import analyse, pair, wrapped_titles
from redactor.documents.lexicon import DOCUMENT_KINDS, TITLE, default_lexicon, key
from redactor.text.lines import TextLine, build_lines
from tests.unit.test_text_lines import run

LEXICON = default_lexicon()

#: Per language: labels as documents print them, and the field each one names.
LANGUAGES = {
    "en": [
        ("Surname", "surname"),
        ("Given names", "given_names"),
        ("Date of birth", "date_of_birth"),
        ("Place of birth", "place_of_birth"),
        ("Nationality", "nationality"),
        ("Passport No.", "document_number"),
        ("Document No.", "document_number"),
        ("Personal No.", "personal_number"),
        ("Date of expiry", "date_of_expiry"),
        ("Address", "address"),
        ("Signature", "signature"),
    ],
    "fr": [
        ("Nom", "surname"),
        ("Prénoms", "given_names"),
        ("Date de naissance", "date_of_birth"),
        ("Lieu de naissance", "place_of_birth"),
        ("Nationalité", "nationality"),
        ("Adresse", "address"),
        ("Date d'expiration", "date_of_expiry"),
    ],
    "de": [
        ("Familienname", "surname"),
        ("Vornamen", "given_names"),
        ("Geburtsdatum", "date_of_birth"),
        ("Geburtsort", "place_of_birth"),
        ("Staatsangehörigkeit", "nationality"),
        ("Anschrift", "address"),
        ("Unterschrift", "signature"),
    ],
    "es": [
        ("Fecha y Ubigeo", "place_of_birth"),  # Peru
        ("Apellidos", "surname"),
        ("Nombre", "given_names"),
        ("Fecha de nacimiento", "date_of_birth"),
        ("Lugar de nacimiento", "place_of_birth"),
        ("Nacionalidad", "nationality"),
        ("Domicilio", "address"),
    ],
    "it": [
        ("Cognome", "surname"),
        ("Nome", "given_names"),
        ("Data di nascita", "date_of_birth"),
        ("Luogo di nascita", "place_of_birth"),
        ("Cittadinanza", "nationality"),
    ],
    "pt": [
        ("Apelido", "surname"),
        ("Data de nascimento", "date_of_birth"),
        ("Local de nascimento", "place_of_birth"),
        ("Nacionalidade", "nationality"),
        ("Morada", "address"),
    ],
    "nl": [
        ("Achternaam", "surname"),
        ("Voornamen", "given_names"),
        ("Geboortedatum", "date_of_birth"),
        ("Geboorteplaats", "place_of_birth"),
        ("Nationaliteit", "nationality"),
    ],
    "pl": [
        ("Nazwisko", "surname"),
        ("Imiona", "given_names"),
        ("Data urodzenia", "date_of_birth"),
        ("Miejsce urodzenia", "place_of_birth"),
        ("Obywatelstwo", "nationality"),
    ],
    "cs": [
        ("Příjmení", "surname"),
        ("Jméno", "given_names"),
        ("Datum narození", "date_of_birth"),
        ("Místo narození", "place_of_birth"),
        ("Státní občanství", "nationality"),
    ],
    "sv": [
        ("Efternamn", "surname"),
        ("Förnamn", "given_names"),
        ("Födelsedatum", "date_of_birth"),
        ("Födelseort", "place_of_birth"),
        ("Nationalitet", "nationality"),
    ],
    "ro": [
        ("Nume", "surname"),
        ("Prenume", "given_names"),
        ("Data nașterii", "date_of_birth"),
        ("Locul nașterii", "place_of_birth"),
        ("Cetățenie", "nationality"),
    ],
    "lv": [
        ("Uzvārds", "surname"),
        ("Vārds", "given_names"),
        ("Dzimšanas datums", "date_of_birth"),
        ("Pilsonība", "nationality"),
        ("Personas kods", "personal_number"),
        ("Derīgs līdz", "date_of_expiry"),
        ("Izdevējiestāde", "authority"),
        ("Paraksts", "signature"),
    ],
    "lt": [
        ("Pavardė", "surname"),
        ("Vardai", "given_names"),
        ("Gimimo data", "date_of_birth"),
        ("Pilietybė", "nationality"),
        ("Asmens kodas", "personal_number"),
        ("Galioja iki", "date_of_expiry"),
        ("Parašas", "signature"),
    ],
    "mt": [
        ("Kunjom", "surname"),
        ("Ismijiet", "given_names"),
        ("Data tat-Twelid", "date_of_birth"),
        ("Post tat-Twelid", "place_of_birth"),
        ("Nazzjonalità", "nationality"),
        ("Data tal-Iskadenza", "date_of_expiry"),
        ("Firma", "signature"),
        ("KARTA TA' L-IDENTITÀ", TITLE),
    ],
    "sr": [
        ("Prezime", "surname"),
        ("Datum rođenja", "date_of_birth"),
        ("Državljanstvo", "nationality"),
        ("Važi do", "date_of_expiry"),
        ("Dokument izdaje", "authority"),
        ("JMBG", "personal_number"),
    ],
    "uk": [
        ("Prizvyshche", "surname"),
        ("Hromadianstvo", "nationality"),
        ("Data narodzhennia", "date_of_birth"),
        ("Data vydachi", "date_of_issue"),
    ],
    "translit": [
        ("Familiya", "surname"),
        ("Prizvyshche", "surname"),
        ("Прізвище", "surname"),
        ("Дата народження", "date_of_birth"),
        ("出 生 日 期", "date_of_birth"),
        ("国籍", "nationality"),
        ("生年月日", "date_of_birth"),
        ("Onoma", "given_names"),
        ("3anuc №", "personal_number"),  # "Запис №" read as Latin letters
        ("YKPAIHA", "state"),  # "УКРАЇНА" read as Latin letters
    ],
}


@pytest.mark.parametrize(
    ("language", "label", "kind"),
    [(lang, label, kind) for lang, pairs in LANGUAGES.items() for label, kind in pairs],
)
def test_given_a_label_in_each_language_then_its_field_is_known(
    language: str, label: str, kind: str
) -> None:
    (match,) = LEXICON.find(label)
    assert (match.kind, match.start, match.end) == (kind, 0, len(label)), language


@pytest.mark.parametrize(
    ("read", "kind"),
    [
        ("Netionality", "nationality"),  # one letter misread
        ("Holder's signatare", "signature"),
        ("Data de maissance", "date_of_birth"),  # two, in a long label
        ("DATE OF BIRTH", "date_of_birth"),
        ("Dateofbirth", "date_of_birth"),  # spaces lost
    ],
)
def test_given_ocr_noise_in_a_label_then_it_is_still_known(read: str, kind: str) -> None:
    (match,) = LEXICON.find(read)
    assert match.kind == kind


@pytest.mark.parametrize(
    "text",
    [
        "Pilsonība/Nationality",  # a language the lexicon lacks, next to one it has
        "Narrponatta /Nationate",  # both parts garbled beyond the edit budget
        "Personvārda vēsturiskā forma/",
    ],
)
def test_given_a_label_shaped_line_then_it_is_not_a_value(text: str) -> None:
    info = analyse(one(text), LEXICON)
    assert info.label_shaped and info.not_a_value


@pytest.mark.parametrize("text", ["MLT/Malija", "V/M", "12/06/1979", "GBR/British", "M/F"])
def test_given_a_value_with_a_slash_then_it_is_not_label_shaped(text: str) -> None:
    assert not analyse(one(text), LEXICON).label_shaped


def test_given_a_garbled_label_line_under_a_label_then_it_is_not_its_value() -> None:
    lines = [
        one("Birth Place", 100, 100, 12),
        one("Narrponatta /Nationate", 100, 116, 12),
        one("MLT/Malija", 100, 132, 18),
    ]
    assert fields_of(lines) == []


def test_short_labels_must_match_exactly() -> None:
    assert LEXICON.find("Game night") == []  # one edit from "name"
    assert [m.kind for m in LEXICON.find("Sex")] == ["sex"]


@pytest.mark.parametrize(
    ("text", "kinds", "labels"),
    [
        ("RESIDENCE PERMIT F PERMIS DE SÉJOUR", [TITLE, TITLE], {0, 1, 3, 4, 5}),  # "/" read "F"
        ("Sex F Height", ["sex", "height"], {0, 2}),  # a one-letter value between labels
        ("S Personas kods", ["personal_number"], {1, 2}),  # a stray letter before a label
        ("M UKRAINE", [], set()),  # a state after a sex: a nationality, a value
    ],
)
def test_given_one_character_between_two_labels_then_both_are_found(
    text: str, kinds: list[str], labels: set[int]
) -> None:
    info = analyse(one(text), LEXICON)
    assert [m.kind for m in info.matches] == kinds and info.label_words == labels


def test_given_a_multilingual_label_then_every_part_is_label_text() -> None:
    line = one("Vārds(-i)/Given name(s)/Prénom(s)")
    info = analyse(line, LEXICON)
    assert info.only_labels and info.field_kinds == {"given_names"}


def test_given_numbered_labels_then_the_numbers_are_label_text() -> None:
    info = analyse(one("4b EXP"), LEXICON)
    assert info.only_labels


def one(text: str, x: float = 0, y: float = 0, height: float = 20) -> TextLine:
    (line,) = build_lines([run(text, x, y, height)])
    return line


def fields_of(lines: list[TextLine]) -> list[tuple[str, str, str]]:
    labels = [analyse(line, LEXICON) for line in lines]
    return [
        (lines[f.line].text[slice(*f.span(lines))], f.kind, f.rule) for f in pair(lines, labels)
    ]


def test_given_a_value_under_its_label_then_it_takes_the_label_kind() -> None:
    lines = [one("Surname/Nom", 100, 100, 12), one("TRAVELER", 100, 116, 18)]
    assert fields_of(lines) == [("TRAVELER", "surname", "label-above")]


def test_given_labels_in_columns_then_each_value_takes_the_label_above_it() -> None:
    labels = build_lines([run("Birthdate", 100, 100, 14), run("Sex", 400, 100, 14)])
    values = build_lines([run("05FEB1965", 100, 118, 18), run("M", 400, 118, 18)])
    found = fields_of(sorted(labels + values, key=lambda line: (line.box.y0, line.box.x0)))
    assert ("05FEB1965", "date_of_birth", "label-above") in found
    assert ("M", "sex", "label-above") in found


def test_given_a_value_after_its_label_then_it_takes_the_label_kind() -> None:
    assert fields_of([one("Date of birth: 12.06.1989")]) == [
        ("12.06.1989", "date_of_birth", "label-left")
    ]


def test_given_a_value_far_right_on_the_row_then_it_pairs_with_the_label() -> None:
    lines = build_lines([run("Passport No.", 100, 100), run("555123ABC12", 350, 100)])
    assert len(lines) == 2
    assert fields_of(lines) == [("555123ABC12", "document_number", "label-left")]


def test_given_an_address_label_then_the_lines_under_it_are_the_address() -> None:
    lines = [
        one("Domicilio", 100, 100, 12),
        one("CALLE MAYOR 12", 100, 116),
        one("28013 MADRID", 100, 140),
    ]
    assert [(t, k) for t, k, _ in fields_of(lines)] == [
        ("CALLE MAYOR 12", "address"),
        ("28013 MADRID", "address"),
    ]


PACKAGING = [
    "Net weight 250 g",
    "Best before 12.2026",
    "Made in Germany",
    "LOT 24051 B",
    "Nutrition facts per 100 g",
    "Energy 1680 kJ / 400 kcal",
    "Ingredients: oats, sugar, butter",
    "Product name: Oat Biscuits",
    "Taille M / Größe M",
    "EXP 05/2027",
]


@pytest.mark.parametrize("text", PACKAGING)
def test_given_packaging_text_then_no_document_label_is_found(text: str) -> None:
    kinds = {m.kind for m in LEXICON.find(text)}
    assert not kinds & (DOCUMENT_KINDS - {"date_of_expiry", "height"})


def test_key_ignores_case_accents_and_punctuation() -> None:
    assert key("Date d'Émission") == key("date demission")


@pytest.mark.parametrize("text", ["Mara/Female", "Weiblich/Female", "Masculin/Male"])
def test_given_a_bilingual_value_then_it_is_not_label_shaped(text: str) -> None:
    info = analyse(one(text), LEXICON)
    assert info.holds_value and not info.label_shaped and not info.label_words


def test_value_words_are_not_label_text_next_to_a_label() -> None:
    info = analyse(one("Sex/Sexe F Female"), LEXICON)
    assert info.field_kinds == {"sex"} and not info.only_labels


@pytest.mark.parametrize(
    ("read", "kind"),
    [
        ("Fecha Ineoripción", "date_of_issue"),  # two letters misread in a long label
        ("Pilsoniba/", "nationality"),  # accent lost
        ("Uzvards", "surname"),
        ("Gimimo dala", "date_of_birth"),
    ],
)
def test_given_ocr_noise_in_a_newer_language_then_it_is_still_known(read: str, kind: str) -> None:
    assert LEXICON.find(read)[0].kind == kind


def test_given_a_label_above_and_a_label_left_then_values_pair_both_ways() -> None:
    lines = [
        one("Vardas/Given names", 100, 100, 12),
        one("ANDRIS", 100, 116, 18),
        *build_lines([run("Lytis/Sex", 100, 150, 12), run("V", 260, 150, 18)]),
    ]
    found = fields_of(lines)
    assert ("ANDRIS", "given_names", "label-above") in found
    assert ("V", "sex", "label-left") in found


@pytest.mark.parametrize(
    ("text", "kind", "value"),
    [
        ("Nationality:GBR", "nationality", "GBR"),
        ("Sex/F", "sex", "F"),
        ("Date of birth:12.06.1989", "date_of_birth", "12.06.1989"),
    ],
)
def test_given_a_label_and_its_value_read_as_one_word_then_the_word_is_a_value(
    text: str, kind: str, value: str
) -> None:
    line = one(text)
    info = analyse(line, LEXICON)
    last = len(line.words) - 1
    assert last not in info.label_words
    tail = info.tail_of(last)
    assert tail is not None and line.text[tail:] == value
    assert [(k, r) for _, k, r in fields_of([line])] == [(kind, "label-left")]


@pytest.mark.parametrize(("text", "kind"), [("Nationality GBR", "nationality"), ("Sex F", "sex")])
def test_given_a_label_and_its_value_on_one_line_then_the_value_is_paired(
    text: str, kind: str
) -> None:
    assert fields_of([one(text)]) == [(text.split()[-1], kind, "label-left")]


@pytest.mark.parametrize(
    ("read", "kind"),
    [
        ("外 文 别 名 / A l s o k n o w n a s", "name"),  # OCR spaces letters out beside CJK
        ("身 分 證 統 一 編 號 / P e r s o n a l I d . N o .", "personal_number"),
    ],
)
def test_given_letters_spaced_out_one_by_one_then_the_label_is_still_found(
    read: str, kind: str
) -> None:
    assert kind in {m.kind for m in LEXICON.find(read)}


def test_given_visa_captions_then_they_are_label_text_not_values() -> None:
    lines = [
        one("Duration of stay / Durée du séjour", 100, 100, 12),
        one("VOM", 100, 116, 12),
        one("BIS", 300, 116, 12),
        one("DAYS", 400, 116, 12),
    ]
    assert all(analyse(line, LEXICON).only_kept for line in lines[1:])
    assert fields_of(lines) == []


@pytest.mark.parametrize(
    ("text", "labels"),
    [("VALABLE POUR ETATS SCHENGEN", {0, 1}), ("SCHENGENER STAATEN", set())],
)
def test_given_a_state_beside_a_value_word_then_it_is_part_of_the_value(
    text: str, labels: set[int]
) -> None:
    # a visa's territory ("ETATS SCHENGEN") is a value beside its caption
    info = analyse(one(text), LEXICON)
    assert info.label_words == labels


@pytest.mark.parametrize(
    ("read", "kind"),
    [
        ("Dote d expiratoin", "date_of_expiry"),  # three edits in a long label
        ("Natiomelltidemtitetskcrt", TITLE),
        ("Counry of Buth", "place_of_birth"),  # shorter than the label it garbles
        ("PLACE AND DAIS OF ISSU2", "place_of_issue"),  # a letter read as a digit
    ],
)
def test_given_three_edits_in_a_long_label_then_it_is_still_known(read: str, kind: str) -> None:
    (match,) = LEXICON.find(read)
    assert match.kind == kind and match.edits == 3


@pytest.mark.parametrize("text", ["Dat3 of 3xpiratoin", "Dafe of exqixy"])
def test_given_three_edits_in_a_numbered_or_shorter_key_then_it_is_not_a_label(text: str) -> None:
    assert LEXICON.find(text) == []


@pytest.mark.parametrize("read", ["XNSURNAME", "NQGIVEN NAMES", "IXDATE OF BIRTH"])
def test_given_capitals_glued_to_the_front_of_a_label_then_the_label_is_found_after_them(
    read: str,
) -> None:
    (match,) = LEXICON.find(read)
    assert match.edits == 0  # matched from after the glued letters, which it includes
    assert (match.start, match.end) == (0, len(read))
    assert analyse(one(read), LEXICON).only_labels


@pytest.mark.parametrize("text", ["ESSEX", "XYNAME", "ANDERSON", "MCDONALD", "COUNTRY", "XSEXE"])
def test_given_a_value_that_ends_like_a_short_label_then_no_glued_label_is_found(text: str) -> None:
    assert [m for m in LEXICON.find(text) if m.start > 0] == []


def test_given_a_short_word_read_like_a_label_right_after_a_label_then_it_is_its_value() -> None:
    # a visa's place of issue, one edit from the Polish label "PESEL"
    assert [m.kind for m in LEXICON.find("AUSGESTELLT IN WESEL")] == ["place_of_issue"]
    assert [m.kind for m in LEXICON.find("PESEL")] == ["personal_number"]
    assert len(LEXICON.find("Nazwisko / Surnane")) == 2


@pytest.mark.parametrize(
    ("read", "kinds"),
    [
        ("Dokumentnummeate of expiry", ["document_number", "date_of_expiry"]),
        (
            "Document No. / Dokumentnummeate of expiry / Giltig till",
            ["document_number", "document_number", "date_of_expiry", "date_of_expiry"],
        ),
    ],
)
def test_given_two_labels_glued_into_one_word_then_both_are_found(
    read: str, kinds: list[str]
) -> None:
    found = LEXICON.find(read)
    assert [m.kind for m in found] == kinds
    assert analyse(one(read), LEXICON).only_labels  # "of expiry" is no value


@pytest.mark.parametrize("read", ["Dokumentnummeate SMITH JOHN", "Dokumentnummeate 12.03.2030"])
def test_given_a_glued_label_before_values_then_the_values_stay_values(read: str) -> None:
    (match,) = LEXICON.find(read)
    assert match.kind == "document_number"
    assert not analyse(one(read), LEXICON).only_labels


@pytest.mark.parametrize(
    ("read", "kind"),
    [
        ("Рег.бр.", "document_number"),  # Serbian identity card, glued as printed
        ("Рег. бр.", "document_number"),
        ("Per.6p.", "document_number"),  # as OCR reads its Latin-looking letters
        ("Signature de", "signature"),  # first row of "Signature de / l'Autorité"
        ("Signature de l'Autorité", "signature"),
    ],
)
def test_given_a_serbian_or_monegasque_label_then_it_is_known(read: str, kind: str) -> None:
    (match,) = LEXICON.find(read)
    assert (match.kind, match.start, match.end) == (kind, 0, len(read))


def test_given_a_label_row_ending_in_a_preposition_then_no_word_is_left_as_a_value() -> None:
    assert analyse(one("5: Date de naissance Signature de"), LEXICON).only_labels
    assert analyse(one("Per.6p./Reg No"), LEXICON).only_labels


@pytest.mark.parametrize(("text", "labels"), [("A# 123456789", 1), ("Category A", 1), ("/A", 0)])
def test_given_a_lone_letter_then_only_with_its_number_sign_is_it_a_label(
    text: str, labels: int
) -> None:
    # "A#" (alien number) is a label; a licence category "A" or a lone "A" is a value
    assert len(LEXICON.find(text)) == labels


@pytest.mark.parametrize(
    "text",
    [
        "DUPLICADO DOCUMENTO NACIONAL DE IDENTIDAD DNI 70275722-9",
        "SPECIMEN COPY PERMANENT RESIDENT CARD",
    ],
)
def test_given_a_long_title_after_a_word_no_label_explains_then_it_is_a_title(text: str) -> None:
    titles = [text[m.start : m.end] for m in LEXICON.find(text) if m.kind == TITLE]
    assert len(titles) == 1 and len(titles[0].split()) >= 3


@pytest.mark.parametrize(
    "text",
    ["RFID IDENTITY CARD SLEEVE", "JANE PASSPORT HOLDER", "GIFT DOCUMENTO NACIONAL DE IDENTIDAX"],
)
def test_given_a_short_or_misread_title_after_another_word_then_it_is_no_title(text: str) -> None:
    assert not [m for m in LEXICON.find(text) if m.kind == TITLE]


def test_given_a_title_printed_over_two_lines_then_both_halves_are_title_words() -> None:
    # "KARTA" over "TA' L-IDENTITÀ", the document number on the second row's right
    lines = build_lines(
        [run("KARTA", 60, 13, 22, 11), run("TA L-IDENTITA Nu/No 9999999M 999", 60, 20, 25, 8)]
    )
    labels = wrapped_titles(lines, [analyse(line, LEXICON) for line in lines], LEXICON)
    upper, lower = labels
    assert upper.only_kept and {m.kind for m in upper.matches} == {TITLE}
    assert [lines[1].words[k].text for k in sorted(lower.label_words)] == ["TA", "L-IDENTITA"]
    assert {lines[1].words[k].text for k in lower.value_words} == {"Nu/No", "9999999M", "999"}


def test_given_a_line_that_only_reads_like_a_title_with_a_line_far_below_then_it_is_no_title() -> (
    None
):
    far = build_lines([run("KARTA", 60, 13, 22, 11), run("TA L-IDENTITA", 60, 120, 25, 8)])
    beside = build_lines([run("KARTA", 60, 13, 22, 11), run("TA L-IDENTITA", 400, 20, 25, 8)])
    for lines in (far, beside):
        labels = wrapped_titles(lines, [analyse(line, LEXICON) for line in lines], LEXICON)
        assert not any(info.matches for info in labels)


def test_the_first_words_of_a_longer_title_are_a_title_head_and_nothing_else_is() -> None:
    assert LEXICON.title_head("KARTA") and LEXICON.title_head("National")
    assert not LEXICON.title_head("KARTA TA' L-IDENTITÀ")  # the whole title
    assert not LEXICON.title_head("Surname") and not LEXICON.title_head("PASSPORT")
