"""Consent and communication preferences: an append-only ledger that proves, a check that is instant."""

from privet.consent.service import SOURCES, ConsentService, Decision

__all__ = ["SOURCES", "ConsentService", "Decision"]
