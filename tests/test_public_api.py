"""The declared public API: exactly these names, each one real."""

from __future__ import annotations

import privet

EXPECTED = {
    "ENTITY_TYPES",
    "ConsentService",
    "Decision",
    "run_retention",
    "DataMap",
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
    "scan",
    "truncate_ip",
    "write_map",
}


def test_when_privet_is_imported_then_all_lists_the_public_names() -> None:
    assert set(privet.__all__) == EXPECTED
    assert sorted(privet.__all__) == privet.__all__ or len(privet.__all__) == len(EXPECTED)


def test_when_a_public_name_is_used_then_it_exists_and_is_documented() -> None:
    for name in privet.__all__:
        obj = getattr(privet, name)
        if callable(obj):
            assert (obj.__doc__ or "").strip(), name
