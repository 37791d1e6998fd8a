"""Column names that say what a column holds, in English, German, French, Spanish, Italian and Dutch.

Names are split into lower-case tokens (snake_case, camelCase, digits) and
matched as whole names first (``vorname``), then token sequences (``first name``).
"""

from __future__ import annotations

import re

_SPLIT = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+")

# Whole-name or token-phrase -> category. Longer phrases win over shorter ones.
VOCABULARY: dict[str, str] = {}


def _add(category: str, *names: str) -> None:
    for n in names:
        VOCABULARY[n] = category


_add(
    "user.contact.email",
    "email",
    "e mail",
    "mail",
    "email address",
    "mail address",
    "courriel",
    "correo",
    "correo electronico",
    "posta elettronica",
    "emailadres",
    "e mail adresse",
    "mailadresse",
)
_add(
    "user.contact.phone_number",
    "phone",
    "phone number",
    "telephone",
    "tel",
    "tel nr",
    "telefon",
    "telefonnummer",
    "mobile",
    "mobil",
    "mobile number",
    "handy",
    "handynummer",
    "cell",
    "cellphone",
    "fon",
    "téléphone",
    "telephone number",
    "portable",
    "numero de telephone",
    "telefono",
    "movil",
    "cellulare",
    "telefoonnummer",
    "mobiel",
    "caller number",
    "callee number",
    "from number",
    "to number",
    "msisdn",
    "caller",
    "caller id",
    "phone no",
    "rufnummer",
    "anrufer",
    "ani",
    "whatsapp",
)
_add(
    "user.name",
    "name",
    "full name",
    "fullname",
    "display name",
    "contact name",
    "customer name",
    "client name",
    "freelancer name",
    "person name",
    "user name full",
    "nom complet",
    "nombre completo",
    "nome completo",
    "volledige naam",
    "naam",
    "vollständiger name",
    "billing name",
    "party name",
    "recipient name",
    "sender name",
    "account holder",
    "kontoinhaber",
    "holder name",
    "cardholder",
)
_add(
    "user.name.first",
    "first name",
    "firstname",
    "fname",
    "given name",
    "forename",
    "vorname",
    "prenom",
    "prénom",
    "nombre",
    "nome",
    "voornaam",
    "first",
)
_add(
    "user.name.last",
    "last name",
    "lastname",
    "lname",
    "surname",
    "family name",
    "nachname",
    "familienname",
    "nom",
    "nom de famille",
    "apellido",
    "apellidos",
    "cognome",
    "achternaam",
    "last",
)
_add(
    "user.contact.address",
    "address",
    "postal address",
    "billing address",
    "shipping address",
    "adresse",
    "anschrift",
    "rechnungsadresse",
    "lieferadresse",
    "adresse de facturation",
    "direccion",
    "dirección",
    "indirizzo",
    "adres",
    "factuuradres",
    "home address",
    "street address",
    "address line",
    "address1",
    "address 1",
    "address line 1",
    "address line 2",
    "address2",
)
_add("user.contact.address.street", "street", "strasse", "straße", "rue", "calle", "via", "straat")
_add(
    "user.contact.address.postal_code",
    "zip",
    "zipcode",
    "zip code",
    "postcode",
    "postal code",
    "plz",
    "postleitzahl",
    "code postal",
    "codigo postal",
    "cap",
    "postcode nl",
)
_add(
    "user.contact.address.city",
    "city",
    "town",
    "stadt",
    "ort",
    "wohnort",
    "ville",
    "ciudad",
    "citta",
    "città",
    "plaats",
    "woonplaats",
)
_add(
    "user.device.ip_address",
    "ip",
    "ip address",
    "ip addr",
    "ipaddress",
    "remote addr",
    "remote ip",
    "client ip",
    "last login ip",
    "login ip",
    "signup ip",
    "caller ip",
    "source ip",
    "ip adresse",
    "adresse ip",
    "direccion ip",
    "indirizzo ip",
    "ipv4",
    "ipv6",
    "x forwarded for",
)
_add("user.device.user_agent", "user agent", "useragent", "ua", "browser")
_add(
    "user.device.device_id",
    "device id",
    "cookie id",
    "advertising id",
    "idfa",
    "gaid",
    "fingerprint",
    "session id",
    "visitor id",
    "anonymous id",
)
_add(
    "user.demographic.date_of_birth",
    "dob",
    "date of birth",
    "birth date",
    "birthdate",
    "birthday",
    "born on",
    "geburtsdatum",
    "geburtstag",
    "geb datum",
    "date de naissance",
    "date naissance",
    "fecha de nacimiento",
    "fecha nacimiento",
    "data di nascita",
    "data nascita",
    "geboortedatum",
)
_add("user.demographic.gender", "gender", "sex", "geschlecht", "sexe", "genre", "sexo", "genere", "geslacht")
_add(
    "user.government_id.national_identification_number",
    "ssn",
    "social security number",
    "national id",
    "national id number",
    "nin",
    "nino",
    "national insurance number",
    "steuer id",
    "steuerid",
    "steueridentifikationsnummer",
    "personalausweis",
    "ausweisnummer",
    "id number",
    "id card",
    "dni",
    "nie",
    "nif",
    "nir",
    "numero securite sociale",
    "insee",
    "codice fiscale",
    "bsn",
    "burgerservicenummer",
    "pesel",
    "personnummer",
    "cpr",
    "pps",
    "passport",
    "passport number",
    "reisepass",
)
_add(
    "user.government_id.tax_id",
    "vat",
    "vat id",
    "vat number",
    "vatid",
    "ust id",
    "ustid",
    "ust idnr",
    "tax id",
    "tax number",
    "steuernummer",
    "tva",
    "numero tva",
    "partita iva",
    "btw nummer",
    "cif",
)
_add(
    "user.financial.bank_account",
    "iban",
    "bank account",
    "account number",
    "kontonummer",
    "bic iban",
    "rib",
    "cuenta",
    "conto",
)
_add(
    "user.financial.credit_card",
    "card number",
    "credit card",
    "cc number",
    "pan",
    "kreditkarte",
    "kartennummer",
    "numero de carte",
    "tarjeta",
    "carta di credito",
)
_add(
    "user.contact.social_handle",
    "twitter",
    "twitter handle",
    "instagram",
    "facebook",
    "linkedin",
    "tiktok",
    "social handle",
    "handle",
    "telegram",
    "github",
)
_add(
    "user.location.precise",
    "latitude",
    "longitude",
    "lat",
    "lng",
    "lon",
    "geo",
    "geolocation",
    "location",
    "coordinates",
    "gps",
    "standort",
)
_add("user.location.imprecise", "city name", "region", "geo city", "geo region")
_add(
    "user.content.private",
    "message",
    "body",
    "text",
    "content",
    "comment",
    "comments",
    "note",
    "notes",
    "description free",
    "nachricht",
    "kommentar",
    "notiz",
    "bemerkung",
    "inhalt",
    "texte",
    "commentaire",
    "mensaje",
    "comentario",
    "messaggio",
    "commento",
    "bericht",
    "opmerking",
    "transcript",
    "payload",
    "form data",
    "answers",
    "remarks",
    "bio",
    "about",
    "subject",
    "betreff",
    "objet",
    "asunto",
    "oggetto",
    "onderwerp",
    "chat",
    "sms body",
    "msg",
)
_add(
    "user.behavior.browsing_history",
    "url",
    "page url",
    "visited url",
    "page",
    "referrer",
    "referer",
    "path visited",
    "landing page",
    "seite",
    "page visitee",
)
_add(
    "user.media.voice",
    "recording",
    "recording path",
    "recording url",
    "voicemail",
    "audio",
    "audio url",
    "call recording",
    "aufnahme",
    "enregistrement",
    "grabacion",
    "registrazione",
    "opname",
)
_add(
    "user.media.image",
    "avatar",
    "avatar path",
    "avatar url",
    "photo",
    "photo url",
    "picture",
    "profile picture",
    "profile image",
    "image",
    "foto",
    "bild",
    "profilbild",
)
_add(
    "user.media.document",
    "attachment",
    "attachment path",
    "file path",
    "document",
    "upload",
    "anhang",
    "piece jointe",
    "adjunto",
    "allegato",
    "bijlage",
    "cv",
    "resume",
)
_add(
    "user.account.username",
    "username",
    "user name",
    "login",
    "login name",
    "benutzername",
    "pseudo",
    "nickname",
    "screen name",
)
_add(
    "user.authorization.credentials",
    "password",
    "password hash",
    "passwort",
    "mot de passe",
    "contrasena",
    "secret",
    "api token",
    "token",
)
_add(
    "user.workplace",
    "company",
    "employer",
    "arbeitgeber",
    "firma",
    "entreprise",
    "empresa",
    "azienda",
    "werkgever",
    "organisation name",
)
_add("user.job_title", "job title", "position", "berufsbezeichnung", "poste", "puesto", "titolo lavoro")

# Names that are never personal whatever their values (keys, timestamps, money, statuses).
NOT_PERSONAL: frozenset[str] = frozenset(
    [
        "id",
        "uuid",
        "created",
        "at",
        "updated",
        "at",
        "deleted",
        "at",
        "status",
        "state",
        "amount",
        "total",
        "price",
        "currency",
        "quantity",
        "qty",
        "role",
        "type",
        "kind",
        "number",
        "invoice",
        "number",
        "order",
        "number",
        "title",
        "budget",
        "count",
        "enabled",
        "active",
        "version",
        "tenant",
        "tenant",
        "id",
        "country",
        "country",
        "code",
        "language",
        "locale",
        "timezone",
        "duration",
        "duration",
        "s",
        "sku",
        "notification",
        "type",
        "unit",
        "price",
    ]
)


def tokens(name: str) -> list[str]:
    """``lastLoginIP`` -> [last, login, ip]; ``telefon_nr2`` -> [telefon, nr, 2]."""
    parts: list[str] = []
    for chunk in re.split(r"[_\-\s.]+", name):
        parts.extend(m.group().lower() for m in _SPLIT.finditer(chunk))
    return [p for p in parts if p]


def category_from_name(name: str) -> tuple[str, str] | None:
    """(category, the matched phrase) for a column name, or None."""
    toks = [t for t in tokens(name) if not t.isdigit()]
    if not toks:
        return None
    phrase = " ".join(toks)
    if phrase in NOT_PERSONAL or name.lower() in NOT_PERSONAL:
        return None
    if phrase in VOCABULARY:
        return VOCABULARY[phrase], phrase
    joined = "".join(toks)
    if joined in VOCABULARY:
        return VOCABULARY[joined], joined
    # The longest contiguous token phrase that names a category ("billing_email_address" -> email address).
    best: tuple[int, str, str] | None = None
    for i in range(len(toks)):
        for j in range(len(toks), i, -1):
            sub = " ".join(toks[i:j])
            if sub in VOCABULARY and (best is None or j - i > best[0]):
                best = (j - i, VOCABULARY[sub], sub)
    if best is None:
        return None
    # A trailing id/at/count means a key or a timestamp about the thing, not the thing itself.
    if (
        toks[-1]
        in (
            "id",
            "at",
            "count",
            "type",
            "status",
            "verified",
            "flag",
            "opt",
            "consent",
            "hash",
            "enabled",
        )
        and best[2] != toks[-1]
        and best[1] != "user.device.device_id"
    ):
        return None
    return best[1], best[2]
