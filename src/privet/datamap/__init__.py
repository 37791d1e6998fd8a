"""The data map: what personal data is held, where, about whom, and for how long."""

from privet.datamap.loader import load_map, parse_map
from privet.datamap.model import (
    ColumnSpec,
    DataMap,
    Hop,
    LegalHold,
    PurposeSpec,
    RetentionRule,
    StoreSpec,
    SubjectSpec,
    TableSpec,
    parse_path,
    split_ref,
)
from privet.datamap.writer import dump_map, write_map

__all__ = [
    "ColumnSpec",
    "DataMap",
    "Hop",
    "LegalHold",
    "PurposeSpec",
    "RetentionRule",
    "StoreSpec",
    "SubjectSpec",
    "TableSpec",
    "dump_map",
    "load_map",
    "parse_map",
    "parse_path",
    "split_ref",
    "write_map",
]
