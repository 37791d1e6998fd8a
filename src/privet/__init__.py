"""Privet: a GDPR engine beside your databases.

The library is what the CLI, the REST API and the web pages call::

    import privet

    dm = privet.load_map("privet.yaml")
    settings = privet.load_settings()
    privet.access(dm, settings, "email=anna@example.com", out=Path("anna.zip"))
    privet.erase(dm, settings, "email=anna@example.com", dry_run=True)
"""

from privet.consent import ConsentService, Decision
from privet.datamap import DataMap, dump_map, load_map, parse_map, write_map
from privet.detection import ENTITY_TYPES, Finding, classify_value, scan
from privet.detection.operators import truncate_ip
from privet.discovery import check_map, discover
from privet.errors import PrivetError
from privet.identity import Identity, parse_subject
from privet.requests import access, erase, is_restricted, object_to, rectify, restrict
from privet.retention import run_retention
from privet.settings import Settings, load_settings

__version__ = "0.1.0"

__all__ = [
    "ENTITY_TYPES",
    "ConsentService",
    "DataMap",
    "Decision",
    "Finding",
    "Identity",
    "PrivetError",
    "Settings",
    "access",
    "check_map",
    "classify_value",
    "discover",
    "dump_map",
    "erase",
    "is_restricted",
    "load_map",
    "load_settings",
    "object_to",
    "parse_map",
    "parse_subject",
    "rectify",
    "restrict",
    "run_retention",
    "scan",
    "truncate_ip",
    "write_map",
]
