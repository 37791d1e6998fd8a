"""Legal rules: national hold periods for accounting records."""

from privet.legal.rules import hold_until, hold_years, pack_version, rule_pack

__all__ = ["hold_until", "hold_years", "pack_version", "rule_pack"]
