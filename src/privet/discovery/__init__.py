"""Discovery: draft the data map from live databases."""

from privet.discovery.check import CheckReport, check_map
from privet.discovery.classify import ColumnVerdict, classify_column
from privet.discovery.discover import Discovery, discover
from privet.discovery.names import category_from_name

__all__ = [
    "CheckReport",
    "ColumnVerdict",
    "Discovery",
    "category_from_name",
    "check_map",
    "classify_column",
    "discover",
]
