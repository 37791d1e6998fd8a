"""Data categories: what a column holds, named after the Fideslang taxonomy.

A map may write a category in full (``user.contact.email``) or without the
``user.`` prefix (``contact.email``); a few common short names are aliases.
What happens to a category on erasure is a policy (``default_on_erase``), kept
apart from what the data is.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

OnErase = Literal["delete_row", "null", "pseudonymize", "redact", "retain", "delete_file"]
ON_ERASE_ACTIONS: tuple[str, ...] = ("delete_row", "null", "pseudonymize", "redact", "retain", "delete_file")
RETENTION_ACTIONS: tuple[str, ...] = ("delete_row", "null", "anonymize", "generalize", "delete_file")


@dataclass(frozen=True, slots=True)
class Category:
    """One category of personal data and the facts Privet needs about it."""

    name: str
    label: str
    entity: str | None = None  # the detection entity type its values hold, if any
    identity: str | None = None  # the identity kind (email, phone, id) its values can match
    free_text: bool = False  # values are prose that may mention people
    file: bool = False  # values are paths or URLs of files
    default_on_erase: OnErase = "null"
    generalize: str | None = None  # how retention generalizes it: ip, date, location


_ALL: tuple[Category, ...] = (
    Category("user.name", "person name", entity="person_name"),
    Category("user.name.first", "given name", entity="person_name"),
    Category("user.name.last", "family name", entity="person_name"),
    Category("user.contact.email", "email address", entity="email", identity="email"),
    Category("user.contact.phone_number", "phone number", entity="phone", identity="phone"),
    Category("user.contact.address", "postal address", entity="postal_address"),
    Category("user.contact.address.street", "street address", entity="postal_address"),
    Category("user.contact.address.city", "city", generalize="location"),
    Category("user.contact.address.postal_code", "postal code"),
    Category("user.contact.address.country", "country"),
    Category("user.contact.social_handle", "social media handle", entity="social_handle"),
    Category("user.contact.url", "personal web address"),
    Category("user.device.ip_address", "IP address", entity="ip_address", generalize="ip"),
    Category("user.device.device_id", "device or cookie identifier"),
    Category("user.device.user_agent", "browser user agent"),
    Category("user.location.precise", "precise location", generalize="location"),
    Category("user.location.imprecise", "approximate location", generalize="location"),
    Category("user.demographic.date_of_birth", "date of birth", entity="date_of_birth", generalize="date"),
    Category("user.demographic.gender", "gender"),
    Category("user.demographic.language", "language"),
    Category(
        "user.government_id.national_identification_number", "national identifier", entity="national_id"
    ),
    Category("user.government_id.tax_id", "tax or VAT identifier"),
    Category("user.government_id.passport_number", "passport number"),
    Category("user.financial.bank_account", "bank account (IBAN)", entity="iban"),
    Category("user.financial.credit_card", "payment card", entity="payment_card"),
    Category("user.account.username", "user name"),
    Category("user.authorization.credentials", "password or secret"),
    Category("user.unique_id", "user identifier", identity="id"),
    Category(
        "user.content.private", "private messages and free text", free_text=True, default_on_erase="redact"
    ),
    Category("user.content.public", "public content", free_text=True, default_on_erase="redact"),
    Category("user.behavior.browsing_history", "visited pages", free_text=True),
    Category("user.workplace", "employer"),
    Category("user.job_title", "job title"),
    Category("user.media.voice", "voice recording", file=True, default_on_erase="delete_file"),
    Category("user.media.image", "photo or image", file=True, default_on_erase="delete_file"),
    Category("user.media.document", "document or attachment", file=True, default_on_erase="delete_file"),
)

CATEGORIES: dict[str, Category] = {c.name: c for c in _ALL}

ALIASES: dict[str, str] = {
    "email": "user.contact.email",
    "phone": "user.contact.phone_number",
    "contact.phone": "user.contact.phone_number",
    "name": "user.name",
    "address": "user.contact.address",
    "ip": "user.device.ip_address",
    "ip_address": "user.device.ip_address",
    "date_of_birth": "user.demographic.date_of_birth",
    "iban": "user.financial.bank_account",
    "payment_card": "user.financial.credit_card",
    "national_id": "user.government_id.national_identification_number",
    "social_handle": "user.contact.social_handle",
    "free_text": "user.content.private",
    "media.audio": "user.media.voice",
}


def canonical(name: str) -> str | None:
    """The full category name for what a map wrote, or None if it is unknown."""
    key = name.strip()
    if key in CATEGORIES:
        return key
    if key in ALIASES:
        return ALIASES[key]
    prefixed = f"user.{key}"
    if prefixed in CATEGORIES:
        return prefixed
    return None


def get(name: str) -> Category:
    """The category for a (possibly short) name; KeyError when unknown."""
    full = canonical(name)
    if full is None:
        raise KeyError(name)
    return CATEGORIES[full]


def short(name: str) -> str:
    """The name as the map writer writes it: without the ``user.`` prefix."""
    return name.removeprefix("user.")


def for_entity(entity: str) -> Category:
    """The default category for values of a detection entity type."""
    for cat in _ALL:
        if cat.entity == entity:
            return cat
    raise KeyError(entity)
