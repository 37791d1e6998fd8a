"""Person names (given-name and surname lists shipped with Privet, plus context) and postal addresses."""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from importlib import resources

from privet.detection.context import before, has_any
from privet.detection.recognizers.base import Recognizer, for_hyperscan

NAME_CONTEXT: tuple[str, ...] = (
    "name",
    "herr",
    "frau",
    "mr",
    "mrs",
    "ms",
    "dr",
    "monsieur",
    "madame",
    "mme",
    "señor",
    "señora",
    "sr.",
    "sra.",
    "signor",
    "signora",
    "sig.",
    "dhr",
    "mevr",
    "pan ",
    "pani",
    "contact",
    "kontakt",
    "ansprechpartner",
    "client",
    "kunde",
    "i am",
    "this is",
    "hier ist",
    "c'est",
    "i'm",
    "ich bin",
    "je suis",
    "me llamo",
    "mi chiamo",
    "ik ben",
    "hello",
    "hallo",
    "hi ",
    "bonjour",
    "dear",
    "liebe",
    "lieber",
    "cher",
    "chère",
    "hola",
    "ciao",
    "gruß",
    "grüße",
    "regards",
    "cordialement",
    "saludos",
    "saluti",
    "groeten",
    "from",
    "von",
    "de la part",
)

_WORD = r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+(?:-[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+)?"
CAPITALISED = re.compile(r"[A-ZÀ-ÖØ-Þ][a-zß-öø-ÿ]+")
_PARTICLE = r"(?:van der |van den |van |von |de la |de |di |da |del |le |la )?"


def fold(word: str) -> str:
    """Lower case without accents, so Chloé, García and Müller match chloe, garcia and muller."""
    return "".join(c for c in unicodedata.normalize("NFKD", word.lower()) if not unicodedata.combining(c))


@cache
def _names(file: str) -> frozenset[str]:
    text = resources.files("privet.detection").joinpath(f"data/{file}").read_text(encoding="utf-8")
    words: set[str] = set()
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        words.update(fold(w) for w in line.split() if w)
    return frozenset(words)


@cache
def all_names() -> frozenset[str]:
    return given_names() | surnames()


def given_names() -> frozenset[str]:
    return _names("given_names.txt")


def surnames() -> frozenset[str]:
    return _names("surnames.txt")


# Capitalised words seen so far: whether they fold to a known given name or surname.
_KNOWN: dict[str, bool] = {}


def known_name(word: str) -> bool:
    """Whether a capitalised word is a known given name or surname (accents and case aside)."""
    hit = _KNOWN.get(word)
    if hit is None:
        hit = fold(word) in all_names()
        if len(_KNOWN) >= 100_000:
            _KNOWN.clear()
        _KNOWN[word] = hit
    return hit


class PersonNameRecognizer(Recognizer):
    type = "person_name"
    pattern = re.compile(rf"(?<![\w@])({_WORD})((?: {_WORD})?) {_PARTICLE}({_WORD})(?![\w@])")
    base_score = 0.85

    def possible(
        self, text: str, digits: int, lower: str | None = None, hits: frozenset[str] | None = None
    ) -> bool:
        # Every accepted name holds a known given name or surname: look for one before the regex.
        return any(map(known_name, CAPITALISED.findall(text)))

    def validate(self, candidate: str, text: str, start: int, region: str) -> float | None:
        parts = candidate.split()
        first, last = fold(parts[0]), fold(parts[-1])
        given, family = given_names(), surnames()
        if first in given and last in family:
            return 0.95
        window = before(text, start, 25)
        has_context = has_any(window, NAME_CONTEXT)
        if first in given and last not in given and (has_context or len(parts) >= 2):
            # "Anna Kowalczyk": a known given name then a capitalised word.
            return 0.8 if last not in _COMMON_CAPITALISED else None
        if last in family and has_context:
            return 0.75
        return None


# Capitalised words that follow a given name without being a surname.
_COMMON_CAPITALISED: frozenset[str] = frozenset(
    [
        "the",
        "und",
        "and",
        "et",
        "y",
        "e",
        "en",
        "i",
        "ich",
        "is",
        "ist",
        "est",
        "und",
        "im",
        "in",
        "am",
        "on",
        "at",
        "le",
        "la",
        "der",
        "die",
        "das",
        "street",
        "straße",
        "rue",
    ]
)


class PostalAddressRecognizer(Recognizer):
    """Street addresses of the main EU countries and the UK, with an optional postcode and city."""

    type = "postal_address"
    min_digits = 1
    # Every street form holds one of its keywords where the pattern puts it.
    _gate = (
        r"(?:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee|straat|laan|plein|gracht"
        r"|kade|singel|dijk|Straße|Strasse|Str\.|Weg|Allee|Platz|Gasse|Ring)\s+\d"
        r"|(?:rue|avenue|av\.|boulevard|bd|place|chemin|allée|impasse|quai|route)\s"
        r"|\s(?:Street|St\.|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr\.|Close|Way|Court|Place|Gardens|Terrace"
        r"|Crescent|Square)"
        r"|(?:Calle|C/|Avenida|Avda\.|Plaza|Paseo|Carrer|Via|Viale|Piazza|Corso|Largo|Vicolo)\s"
    )
    gate = re.compile(_gate)
    hs_gate = for_hyperscan(_gate)
    _street_de_nl = (
        r"[A-ZÄÖÜ][\wäöüß.-]*(?:straße|strasse|str\.|weg|allee|platz|gasse|ring|damm|ufer|chaussee"
        r"|straat|laan|plein|gracht|kade|singel|dijk)\s+\d{1,4}\s?[a-zA-Z]?"
    )
    _street_multi = (
        r"(?:[A-ZÄÖÜ][\wäöüß-]+\s+){1,3}(?:Straße|Strasse|Str\.|Weg|Allee|Platz|Gasse|Ring)\s+\d{1,4}[a-z]?"
    )
    _street_fr = (
        r"\d{1,4}(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|place|chemin|allée|impasse|quai|route)"
        r"\s+(?:(?:de |du |des |de la |d')?[\wÀ-ÿ'-]+\s?){1,4}"
    )
    _street_en = (
        r"\d{1,5}\s+(?:[A-Z][a-z]+\s+){1,3}(?:Street|St\.|Road|Rd\.?|Avenue|Ave\.?|Lane|Ln\.?|Drive|Dr\.|Close"
        r"|Way|Court|Place|Gardens|Terrace|Crescent|Square)"
    )
    _street_es_it = (
        r"(?:Calle|C/|Avenida|Avda\.|Plaza|Paseo|Carrer|Via|Viale|Piazza|Corso|Largo|Vicolo)\s+"
        r"(?:(?:de |del |della |di |dei |la )?[A-ZÀ-Ý][\wà-ÿ'-]+\s?){1,4},?\s*\d{1,4}"
    )
    _postcode_city = (
        r"(?:,?\s+(?:\d{5}|\d{4}\s?[A-Z]{2}|[A-Z]{1,2}\d[A-Z\d]?\s?\d[A-Z]{2}|\d{2}-\d{3}|\d{4})"
        r"(?:\s+[A-ZÀ-Ý][\wà-ÿ-]+(?:\s[A-ZÀ-Ý][\wà-ÿ-]+)?)?)?"
    )
    pattern = re.compile(
        rf"(?:{_street_de_nl}|{_street_multi}|{_street_fr}|{_street_en}|{_street_es_it}){_postcode_city}"
    )
    base_score = 0.85
    context = (
        "address",
        "adresse",
        "anschrift",
        "wohnhaft",
        "dirección",
        "direccion",
        "indirizzo",
        "adres",
        "ship to",
        "liefer",
        "live at",
        "wohne",
        "j'habite",
        "vivo en",
        "abito",
    )

    def validate(self, candidate: str, text: str, start: int, region: str) -> float | None:
        return self.base_score

    def span(self, m: re.Match[str]) -> tuple[int, int]:
        start, end = m.span()
        while end > start and m.string[end - 1] in " ,.":
            end -= 1
        return start, end
