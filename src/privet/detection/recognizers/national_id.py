"""National identifiers of EU countries and the UK, validated by python-stdnum."""

from __future__ import annotations

import re
from functools import lru_cache
from types import ModuleType

from stdnum.de import idnr
from stdnum.dk import cpr
from stdnum.es import dni, nie
from stdnum.fi import hetu
from stdnum.fr import nir
from stdnum.ie import pps
from stdnum.it import codicefiscale
from stdnum.nl import bsn
from stdnum.pl import pesel
from stdnum.se import personnummer

from privet.detection.context import NEGATIVE_NUMBER_CONTEXT, before, has_any
from privet.detection.recognizers.base import Recognizer, for_hyperscan


class _Nino:
    """UK National Insurance number (python-stdnum has no validator for it): its format rules."""

    _RE = re.compile(r"^(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]\d{6}[A-D]$")

    @classmethod
    def is_valid(cls, value: str) -> bool:
        return bool(cls._RE.match(value.replace(" ", "").upper()))


nino = _Nino

# Identifiers with letters or a fixed punctuation are distinctive on their own; bare digit runs
# (BSN, PESEL, Steuer-ID, CPR…) collide with order numbers and need a context word.
_DISTINCTIVE: tuple[ModuleType | type[_Nino], ...] = (dni, nie, codicefiscale, nino, pps, hetu)
# The shapes they can have, upper case without spaces and dashes: DNI, NIE, codice fiscale (16
# characters, or 11 digits), NINO, PPS, HETU. A candidate of no such shape skips the validators.
DISTINCTIVE_SHAPE = re.compile(
    r"\d{8}[A-Z]|[XYZ]\d{7}[A-Z]|[A-Z0-9]{16}|\d{11}|[A-Z]{2}\d{6}[A-D]|\d{7}[A-W][ABHWTX]?"
    r"|\d{6}[+A-FU-Y]?\d{3}[0-9A-Z]"
)
_NUMERIC: tuple[ModuleType, ...] = (nir, bsn, pesel, idnr, cpr, personnummer)

ID_CONTEXT: tuple[str, ...] = (
    "id",
    "ausweis",
    "steuer",
    "tax",
    "identifikation",
    "bsn",
    "burgerservice",
    "pesel",
    "nir",
    "sécurité sociale",
    "securite sociale",
    "insee",
    "dni",
    "nie",
    "nif",
    "codice fiscale",
    "cf",
    "personnummer",
    "cpr",
    "pps",
    "nino",
    "national insurance",
    "social security",
    "ssn",
    "henkilötunnus",
    "hetu",
    "identity",
    "identité",
    "identidad",
    "personal",
    "número de identificación",
)


class NationalIdRecognizer(Recognizer):
    type = "national_id"
    min_digits = 1
    # Every candidate holds three digits in a row (spaces between them allowed), or is a run of six
    # or more letters and digits with an ASCII digit in it (the validator wants one): for Python's
    # engine the run is seen from that digit, with what stands before it and after it.
    gate = re.compile(
        r"\d(?:\s?\d\s?\d|(?<=[A-Za-z0-9]{6})|(?<=[A-Za-z0-9]{5})[A-Za-z0-9]|(?<=[A-Za-z0-9]{4})[A-Za-z0-9]{2}"
        r"|(?<=[A-Za-z0-9]{3})[A-Za-z0-9]{3}|(?<=[A-Za-z0-9]{2})[A-Za-z0-9]{4}|[A-Za-z0-9]{5})"
    )
    hs_gate = for_hyperscan(
        r"\d\s?\d\s?\d|[A-Za-z0-9]{5}[0-9]|[A-Za-z0-9]{4}[0-9][A-Za-z0-9]|[A-Za-z0-9]{3}[0-9][A-Za-z0-9]{2}"
        r"|[A-Za-z0-9]{2}[0-9][A-Za-z0-9]{3}|[A-Za-z0-9][0-9][A-Za-z0-9]{4}|[0-9][A-Za-z0-9]{5}"
    )
    # Punctuated and spaced forms come first, so that HETU, CPR and personnummer are taken
    # whole rather than as the digit run before their dash.
    pattern = re.compile(
        r"(?<![A-Za-z0-9])(?:\d{6}[-+A]\d{3}[0-9A-Za-z]|\d{6}-\d{4}|[A-Z]{2}\s?\d{2}\s?\d{2}\s?\d{2}\s?[A-D]"
        r"|\d{1,2}\s?\d{2}\s?\d{2}\s?\d{2}\s?\d{3}\s?\d{3}\s?\d{2}|\d{3}[ .-]?\d{3}[ .-]?\d{3,5}"
        r"|(?=[A-Za-z]*\d)[A-Za-z0-9]{6,20})(?![A-Za-z0-9])"
    )
    base_score = 0.9

    def validate(self, candidate: str, text: str, start: int, region: str) -> float | None:
        if not any(c.isdigit() for c in candidate):
            return None
        if _distinctive(candidate):
            return self.base_score
        window = before(text, start, 30)
        if not has_any(window, ID_CONTEXT) or has_any(window, _NEGATIVE):
            return None
        return 0.85 if _numeric(candidate) else None


_NEGATIVE = tuple(w for w in NEGATIVE_NUMBER_CONTEXT if w != "#")


# Validators are pure functions of the candidate: their verdicts are kept for values that recur.
@lru_cache(maxsize=8192)
def _distinctive(candidate: str) -> bool:
    """A valid identifier of a distinctive kind (letters or fixed punctuation), context or not."""
    if not DISTINCTIVE_SHAPE.fullmatch(candidate.replace(" ", "").replace("-", "").upper()):
        return False
    return any(mod.is_valid(candidate) for mod in _DISTINCTIVE)


@lru_cache(maxsize=8192)
def _numeric(candidate: str) -> bool:
    """A valid bare-digit identifier (taken only after an identity word)."""
    digits = sum(c.isdigit() for c in candidate)
    for mod in _NUMERIC:
        # python-stdnum pads a BSN to 9 digits: a shorter run is not one (real ones have 8 or 9).
        if mod is bsn and digits < 8:
            continue
        if mod.is_valid(candidate):
            return True
    return False
