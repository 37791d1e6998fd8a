"""Imports every domain's state models so that ``Base.metadata`` is complete."""

from __future__ import annotations

import importlib

MODEL_MODULES: tuple[str, ...] = (
    "privet.audit.models",
    "privet.consent.models",
    "privet.protection.models",
    "privet.requests.models",
    "privet.retention.models",
    "privet.service.models",
)


def load_all() -> None:
    for name in MODEL_MODULES:
        importlib.import_module(name)
