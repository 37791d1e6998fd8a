"""Protection: derived keys and the suppression list."""

from privet.protection import suppression
from privet.protection.keys import derive_key

__all__ = ["derive_key", "suppression"]
