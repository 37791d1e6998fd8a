"""Retention: keep nothing longer than allowed; anonymize, generalize, delete on schedule."""

from privet.detection.operators import truncate_ip
from privet.retention.engine import RetentionReport, RuleReport, retention_due, run_retention, set_override

__all__ = ["RetentionReport", "RuleReport", "retention_due", "run_retention", "set_override", "truncate_ip"]
