"""Messages of the pages in English, German and French."""

from __future__ import annotations

from fastapi import Request

MESSAGES: dict[str, dict[str, str]] = {
    "en": {
        "center": "Privacy center",
        "ask": "Ask about your personal data",
        "email": "Your email address",
        "type": "What do you want?",
        "access": "A copy of my data",
        "erasure": "Delete my data",
        "send": "Send request",
        "code": "Code from the email",
        "confirm": "Confirm",
        "status": "Status of your request",
        "download": "Download your data",
        "due": "Answer due by",
        "sent": "We sent a code to your address. Type it here to confirm the request.",
        "resend": "Send the code again",
        "resent": "A new code is on its way; the previous one no longer works.",
        "console": "Console",
        "key": "API key",
        "signin": "Sign in",
        "queue": "Requests",
        "approve": "Approve",
        "extend": "Extend",
        "reason": "Reason",
        "map": "Data map",
        "prefs": "Your choices",
        "link": "Email me a link",
        "purposes": "What you allow",
        "save": "Save",
        "link_sent": "If we hold this address, a link is on its way.",
        "saved": "Saved.",
        "consents": "Consent",
        "audit": "Audit log",
        "retention": "Retention runs",
    },
    "de": {
        "center": "Datenschutz-Center",
        "ask": "Fragen zu Ihren Daten",
        "email": "Ihre E-Mail-Adresse",
        "type": "Was möchten Sie?",
        "access": "Eine Kopie meiner Daten",
        "erasure": "Meine Daten löschen",
        "send": "Anfrage senden",
        "code": "Code aus der E-Mail",
        "confirm": "Bestätigen",
        "status": "Stand Ihrer Anfrage",
        "download": "Daten herunterladen",
        "due": "Antwort fällig bis",
        "sent": "Wir haben einen Code an Ihre Adresse geschickt. Geben Sie ihn hier ein.",
        "resend": "Code erneut senden",
        "resent": "Ein neuer Code ist unterwegs; der vorige gilt nicht mehr.",
        "console": "Konsole",
        "key": "API-Schlüssel",
        "signin": "Anmelden",
        "queue": "Anfragen",
        "approve": "Freigeben",
        "extend": "Verlängern",
        "reason": "Begründung",
        "map": "Datenkarte",
        "prefs": "Ihre Einstellungen",
        "link": "Link per E-Mail senden",
        "purposes": "Was Sie erlauben",
        "save": "Speichern",
        "link_sent": "Wenn wir diese Adresse kennen, ist ein Link unterwegs.",
        "saved": "Gespeichert.",
        "consents": "Einwilligungen",
        "audit": "Protokoll",
        "retention": "Löschläufe",
    },
    "fr": {
        "center": "Espace confidentialité",
        "ask": "Vos données personnelles",
        "email": "Votre adresse e-mail",
        "type": "Que souhaitez-vous ?",
        "access": "Une copie de mes données",
        "erasure": "Effacer mes données",
        "send": "Envoyer",
        "code": "Code reçu par e-mail",
        "confirm": "Confirmer",
        "status": "État de votre demande",
        "download": "Télécharger mes données",
        "due": "Réponse avant le",
        "sent": "Nous avons envoyé un code à votre adresse. Saisissez-le ici.",
        "resend": "Renvoyer le code",
        "resent": "Un nouveau code est en route ; le précédent ne fonctionne plus.",
        "console": "Console",
        "key": "Clé d'API",
        "signin": "Se connecter",
        "queue": "Demandes",
        "approve": "Approuver",
        "extend": "Prolonger",
        "reason": "Motif",
        "map": "Cartographie",
        "prefs": "Vos choix",
        "link": "Recevoir un lien",
        "purposes": "Ce que vous autorisez",
        "save": "Enregistrer",
        "link_sent": "Si nous connaissons cette adresse, un lien est en route.",
        "saved": "Enregistré.",
        "consents": "Consentements",
        "audit": "Journal d'audit",
        "retention": "Purges",
    },
}


def language(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in MESSAGES:
        return asked
    for part in request.headers.get("accept-language", "").split(","):
        code = part.split(";")[0].strip()[:2].lower()
        if code in MESSAGES:
            return code
    return "en"


def messages(request: Request) -> dict[str, str]:
    return MESSAGES[language(request)]
