"""The tamper-evident audit log."""

from privet.audit.log import ChainReport, entries_for, record, verify
from privet.audit.models import AuditEntry

__all__ = ["AuditEntry", "ChainReport", "entries_for", "record", "verify"]
