"""The one error tree of Privet.

Every error Privet raises on purpose derives from :class:`PrivetError`. Each
keeps the offending value as an attribute, and its message says what was
expected and how to fix it. Adapters (CLI, REST API, web) map the tree to exit
codes and HTTP statuses in one place; nothing here prints or exits.

::

    PrivetError
    ├── BadInput                    (exit 2, HTTP 422)   the user gave us something wrong
    │   ├── MapError                malformed or inconsistent privet.yaml (file, line, fix)
    │   ├── ConfigError             a bad setting
    │   ├── BadSubject              an identity that cannot be parsed (KEY=VALUE, phone, email)
    │   ├── UnknownName             a store, table, column, purpose, tenant the map does not know
    │   └── AmbiguousSubject        an identity that matches more than one person
    ├── StoreError                  (exit 2, HTTP 503)   a store could not be reached or read
    │   └── StoreUnreachable
    ├── NotFound                    (exit 1, HTTP 404)   nothing there, or not yours
    ├── Conflict                    (exit 1, HTTP 409)   the request is not in a state for this
    ├── VerificationFailed          (exit 1, HTTP 403)   wrong, expired or locked code
    ├── Unauthorized                (exit 2, HTTP 401)   missing or unknown API key
    └── IntegrityError              (exit 1, HTTP 500)   tampered audit chain, failed verification
"""

from __future__ import annotations

from typing import Any


class PrivetError(Exception):
    """Root of every error Privet raises on purpose."""

    exit_code: int = 1
    http_status: int = 500

    def __init__(self, message: str, *, value: Any = None, hint: str | None = None) -> None:
        self.message = message
        self.value = value
        self.hint = hint
        super().__init__(self.__str__())

    def __str__(self) -> str:
        return f"{self.message} ({self.hint})" if self.hint else self.message

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe description for adapters (never a stack trace)."""
        out: dict[str, Any] = {"error": type(self).__name__, "message": self.message}
        if self.hint:
            out["hint"] = self.hint
        return out


class BadInput(PrivetError):
    """Something the user gave us is wrong; fixing the input fixes the error."""

    exit_code = 2
    http_status = 422


class MapError(BadInput):
    """A malformed or inconsistent data map, with the file and line where it is wrong."""

    def __init__(
        self,
        message: str,
        *,
        path: str | None = None,
        line: int | None = None,
        value: Any = None,
        hint: str | None = None,
    ) -> None:
        self.path = path
        self.line = line
        super().__init__(message, value=value, hint=hint)

    def __str__(self) -> str:
        where = ""
        if self.path:
            where = f"{self.path}:{self.line}: " if self.line else f"{self.path}: "
        text = f"{where}{self.message}"
        return f"{text} ({self.hint})" if self.hint else text

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out.update({"path": self.path, "line": self.line})
        return out


class ConfigError(BadInput):
    """A setting that cannot be used as given."""


class BadSubject(BadInput):
    """A subject identity that cannot be parsed or normalized."""


class UnknownName(BadInput):
    """A name (store, table, column, purpose, tenant, notice version) nobody declared."""


class AmbiguousSubject(BadInput):
    """An identity that matches more than one person; lists the candidates."""

    def __init__(self, message: str, *, candidates: list[dict[str, Any]], value: Any = None) -> None:
        self.candidates = candidates
        super().__init__(message, value=value, hint="name the person by a more specific identity, e.g. id=…")

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["candidates"] = self.candidates
        return out


class StoreError(PrivetError):
    """A store could not be reached, read or written."""

    exit_code = 2
    http_status = 503


class StoreUnreachable(StoreError):
    """The database or file store behind a URL is not there."""


class NotFound(PrivetError):
    """Nothing there, or not visible to the caller (the two are answered alike)."""

    exit_code = 1
    http_status = 404


class Conflict(PrivetError):
    """The object is not in a state that allows this operation."""

    exit_code = 1
    http_status = 409


class VerificationFailed(PrivetError):
    """A wrong, expired or locked-out verification code."""

    exit_code = 1
    http_status = 403


class Unauthorized(PrivetError):
    """A missing or unknown API key."""

    exit_code = 2
    http_status = 401


class IntegrityError(PrivetError):
    """Something that must hold does not: a tampered audit chain, a failed verification."""

    exit_code = 1
    http_status = 500


__all__ = [
    "AmbiguousSubject",
    "BadInput",
    "BadSubject",
    "ConfigError",
    "Conflict",
    "IntegrityError",
    "MapError",
    "NotFound",
    "PrivetError",
    "StoreError",
    "StoreUnreachable",
    "Unauthorized",
    "UnknownName",
    "VerificationFailed",
]
