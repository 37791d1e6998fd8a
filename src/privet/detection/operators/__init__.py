"""Operators: the single implementations erasure and retention use to transform values."""

from privet.detection.operators.base import Operator
from privet.detection.operators.generalize import (
    Generalize,
    generalize_date,
    generalize_location,
    truncate_ip,
)
from privet.detection.operators.keyed import (
    ANON_PREFIX,
    PSEUDO_PREFIX,
    Anonymize,
    Decrypt,
    Encrypt,
    Pseudonymize,
    pseudonym,
)
from privet.detection.operators.mentions import mentions, redact_identifiers
from privet.detection.operators.simple import Mask, Redact, Replace

__all__ = [
    "ANON_PREFIX",
    "PSEUDO_PREFIX",
    "Anonymize",
    "Decrypt",
    "Encrypt",
    "Generalize",
    "Mask",
    "Operator",
    "Pseudonymize",
    "Redact",
    "Replace",
    "generalize_date",
    "generalize_location",
    "mentions",
    "pseudonym",
    "redact_identifiers",
    "truncate_ip",
]
