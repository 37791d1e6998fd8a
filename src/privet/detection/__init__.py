"""Detection: find personal data in values and free text."""

from privet.detection.engine import classify_value, scan, scan_file, scan_lines, scan_many
from privet.detection.finding import ENTITY_TYPES, Finding

__all__ = ["ENTITY_TYPES", "Finding", "classify_value", "scan", "scan_file", "scan_lines", "scan_many"]
