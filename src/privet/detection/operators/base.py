"""The operator interface: ``validate`` the configuration, ``apply`` to one value."""

from __future__ import annotations


class Operator:
    """Transforms one value; erasure and retention use these, never their own copies."""

    name: str = ""

    def validate(self) -> None:
        """Raise ValueError when the operator is configured wrongly."""

    def apply(self, value: str) -> str:
        raise NotImplementedError
