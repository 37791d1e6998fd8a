"""A labelled multilingual corpus (English, German, French) of chat, SMS and form messages.

Each message carries the spans of the personal data it holds; a share of the
messages hold none but are full of hard negatives (order and invoice numbers,
versions, timestamps, tracking numbers, amounts, IBANs with bad check digits,
16-digit numbers that fail Luhn).
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass, field

FIRST = [
    "Anna",
    "Lukas",
    "Marie",
    "Jonas",
    "Camille",
    "Hugo",
    "Chloé",
    "Emma",
    "Oliver",
    "Sophie",
    "Paul",
    "Julia",
    "Léa",
    "Louis",
    "Thomas",
    "Laura",
    "Jakub",
    "Sanne",
]
LAST = [
    "Schmidt",
    "Müller",
    "Weber",
    "Dubois",
    "Martin",
    "Bernard",
    "Smith",
    "Taylor",
    "Brown",
    "Moreau",
    "Fischer",
    "Wagner",
    "Laurent",
    "Becker",
    "Jansen",
    "Nowak",
]
STREETS_DE = ["Hauptstraße", "Bahnhofstraße", "Gartenweg", "Lindenallee", "Schillerstraße"]
STREETS_FR = ["rue de la Paix", "avenue Victor Hugo", "boulevard Voltaire", "rue Lafayette"]
STREETS_EN = ["Baker Street", "High Street", "Station Road", "Church Lane"]
IBANS = [
    "DE89370400440532013000",
    "FR1420041010050500013M02606",
    "GB29NWBK60161331926819",
    "NL91ABNA0417164300",
    "ES9121000418450200051332",
]
CARDS = [
    "4111 1111 1111 1111",
    "5500 0000 0000 0004",
    "2221 0000 0000 0009",
    "3400 0000 0000 009",
    "6759 6498 2643 8453",
]
IDS = ["12345678Z", "AB123456C", "X1234567L"]


@dataclass
class Message:
    text: str
    spans: list[tuple[str, int, int]] = field(default_factory=list)


class _Builder:
    def __init__(self) -> None:
        self.parts: list[str] = []
        self.spans: list[tuple[str, int, int]] = []
        self.pos = 0

    def add(self, text: str, kind: str | None = None) -> _Builder:
        if kind:
            self.spans.append((kind, self.pos, self.pos + len(text)))
        self.parts.append(text)
        self.pos += len(text)
        return self

    def build(self) -> Message:
        return Message("".join(self.parts), self.spans)


def _phone(rng: random.Random) -> str:
    n = rng.randrange(1000000, 9999999)
    return rng.choice(
        [
            f"+49 176 {n}",
            f"0176 {str(n)[:3]} {str(n)[3:]}",
            f"+33 6 12 34 {n % 100:02d} {n % 97:02d}",
            f"+44 20 7946 {n % 10000:04d}",
            f"0151-{n}1",
        ]
    )


def _personal(rng: random.Random) -> Message:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    name = f"{first} {last}"
    email = f"{first.lower().replace('é', 'e').replace('ü', 'u')}.{last.lower().replace('ü', 'u')}{rng.randrange(99)}@example.com"
    phone = _phone(rng)
    lang = rng.choice(["en", "de", "fr"])
    b = _Builder()
    kind = rng.randrange(8)
    if lang == "de":
        if kind == 0:
            b.add("Hallo, ich bin ").add(name, "person_name").add(", bitte ruf mich an unter ").add(
                phone, "phone"
            ).add(".")
        elif kind == 1:
            b.add("Meine Mail ist ").add(email, "email").add(" und meine IBAN ").add(
                rng.choice(IBANS), "iban"
            )
        elif kind == 2:
            b.add("Lieferung an ").add(
                f"{rng.choice(STREETS_DE)} {rng.randrange(1, 99)}, 10115 Berlin", "postal_address"
            ).add(" bitte.")
        elif kind == 3:
            b.add("Geboren am ").add(
                f"{rng.randrange(1, 28):02d}.{rng.randrange(1, 12):02d}.19{rng.randrange(50, 99)}",
                "date_of_birth",
            ).add(", Kunde seit 2020.")
        elif kind == 4:
            b.add("Login von ").add(f"203.0.113.{rng.randrange(1, 254)}", "ip_address").add(" um 12:30 Uhr")
        elif kind == 5:
            b.add("Karte ").add(rng.choice(CARDS), "payment_card").add(" wurde abgelehnt")
        elif kind == 6:
            b.add("Folg mir auf Instagram ").add(
                f"@{first.lower().replace('é', 'e')}_{rng.randrange(99)}", "social_handle"
            )  # handles are ASCII on every network
        else:
            b.add("Ausweis: DNI ").add(rng.choice(IDS[:1]), "national_id").add(" liegt vor")
    elif lang == "fr":
        if kind in (0, 4):
            b.add("Bonjour, je suis ").add(name, "person_name").add(", mon numéro est le ").add(
                phone, "phone"
            )
        elif kind in (1, 5):
            b.add("Écrivez-moi à ").add(email, "email").add(" merci")
        elif kind in (2, 6):
            b.add("J'habite au ").add(
                f"{rng.randrange(1, 99)} {rng.choice(STREETS_FR)}, 75002 Paris", "postal_address"
            )
        else:
            b.add("Virement depuis ").add(rng.choice(IBANS), "iban").add(" effectué")
    else:
        if kind in (0, 4):
            b.add("Hi, this is ").add(name, "person_name").add(", call me on ").add(phone, "phone")
        elif kind in (1, 5):
            b.add("Send the invoice to ").add(email, "email").add(" please")
        elif kind in (2, 6):
            b.add("Ship to ").add(f"{rng.randrange(1, 300)} {rng.choice(STREETS_EN)}", "postal_address").add(
                ", London"
            )
        else:
            b.add("My NI number is ").add(IDS[1], "national_id").add(", connecting from ").add(
                f"2001:db8::{rng.randrange(1, 999):x}", "ip_address"
            )
    return b.build()


def _clean(rng: random.Random) -> Message:
    n = rng.randrange(100000, 999999)
    return Message(
        rng.choice(
            [
                f"Order #{n} shipped, tracking number 00340434161094{n}.",
                f"Rechnung INV-2024-{n} über 1.234,56 EUR ist bezahlt.",
                f"Upgraded to version 2.{n % 10}.{n % 7}.1 at 2024-05-01 12:30:45.",
                "IBAN DE88370400440532013000 is invalid, please check.",
                "Bestellnummer 4111111111111112 wurde storniert.",
                f"Votre commande {n} sera livrée le 12.03.2025 entre 8h et 12h.",
                "The meeting moved to room 4.12, budget 25,000 EUR.",
                f"Ticket {n}: the build failed on step 3 of 7.",
            ]
        )
    )


def corpus(n: int = 3000, seed: int = 11, clean_share: float = 0.4) -> list[Message]:
    rng = random.Random(seed)
    return [_clean(rng) if rng.random() < clean_share else _personal(rng) for _ in range(n)]


def prose(size_bytes: int, seed: int = 5) -> str:
    """Ordinary prose without personal data (throughput on plain text)."""
    rng = random.Random(seed)
    words = [
        "the",
        "project",
        "team",
        "reviewed",
        "the",
        "quarterly",
        "plan",
        "and",
        "agreed",
        "on",
        "the",
        "next",
        "steps",
        "for",
        "the",
        "product",
        "launch",
        "while",
        "the",
        "design",
        "work",
        "continues",
        "with",
        "feedback",
        "from",
        "customers",
        "and",
        "partners",
        "across",
        "several",
        "markets",
    ]
    out, size = [], 0
    while size < size_bytes:
        line = " ".join(rng.choice(words) for _ in range(14)).capitalize() + "."
        out.append(line)
        size += len(line) + 1
    return "\n".join(out)


CHAT = (
    "ok see you at the station later",
    "did anyone check the slides for tomorrow?",
    "Thanks, that works for me",
    "je pense que la réunion est annulée",
    "Kannst du mir die Unterlagen schicken?",
    "lunch at the usual place?",
    "the build is green again",
    "I will be a bit late today, sorry",
)


def chat_log(size_bytes: int, seed: int = 3, every: int = 10) -> Iterator[bytes]:
    """A chat log of at least ``size_bytes``, in blocks: ``[hh:mm] nick: text`` lines, one in ``every``
    a corpus message (most of those hold personal data), the others ordinary chat."""
    rng = random.Random(seed)
    messages = [m.text for m in corpus(5000, seed=seed)]
    nicks = ["lena", "tom_k", "marc", "sophie", "jo", "ben"]
    written = 0
    while written < size_bytes:
        lines = []
        for n in range(10_000):
            text = rng.choice(messages) if n % every == 0 else rng.choice(CHAT)
            lines.append(f"[{rng.randrange(24):02d}:{rng.randrange(60):02d}] {rng.choice(nicks)}: {text}\n")
        block = "".join(lines).encode()
        written += len(block)
        yield block
