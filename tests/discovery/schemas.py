"""Schemas written for the discovery tests, with conventions discovery was not tuned on.

Each comes with its ground truth: the personal columns and their categories.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable

import sqlalchemy as sa

S = sa.String


def german_crm(url: str) -> dict[tuple[str, str], str]:
    """German names, camelCase, an EAV custom-field table, a JSON column, a table linked only by value."""
    md = sa.MetaData()
    kunden = sa.Table(
        "kunden",
        md,
        sa.Column("kundeId", sa.Integer, primary_key=True),
        sa.Column("vorname", S(50)),
        sa.Column("nachname", S(50)),
        sa.Column("eMail", S(120)),
        sa.Column("telefonNummer", S(30)),
        sa.Column("geburtsdatum", sa.Date),
        sa.Column("strasse", S(80)),
        sa.Column("plz", S(10)),
        sa.Column("ort", S(50)),
        sa.Column("profil", sa.JSON),
        sa.Column("angelegtAm", sa.DateTime),
        sa.Column("status", S(20)),
    )
    bestellungen = sa.Table(
        "bestellungen",
        md,
        sa.Column("bestellNr", sa.Integer, primary_key=True),
        sa.Column("kundeId", sa.Integer, sa.ForeignKey("kunden.kundeId"), nullable=False),
        sa.Column("bestellDatum", sa.Date),
        sa.Column("betrag", sa.Numeric(10, 2)),
        sa.Column("lieferAdresse", S(200)),
    )
    zusatz = sa.Table(
        "zusatzfelder",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("kundeId", sa.Integer, sa.ForeignKey("kunden.kundeId")),
        sa.Column("feldName", S(40)),
        sa.Column("feldWert", S(200)),
    )
    anrufe = sa.Table(
        "anrufe",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("rufnummer", S(30)),
        sa.Column("dauerSek", sa.Integer),
    )
    engine = sa.create_engine(url)
    md.drop_all(engine)
    md.create_all(engine)
    first = ["Anna", "Lukas", "Marie", "Jonas", "Sophie", "Paul", "Emma", "Leon"]
    last = ["Schmidt", "Müller", "Weber", "Fischer", "Becker", "Wagner", "Hoffmann", "Koch"]
    with engine.begin() as conn:
        conn.execute(
            kunden.insert(),
            [
                {
                    "kundeId": i,
                    "vorname": first[i % 8],
                    "nachname": last[i % 8],
                    "eMail": f"{first[i % 8].lower()}.{i}@beispiel.de",
                    "telefonNummer": f"0151 {20000000 + i * 7919}",
                    "geburtsdatum": dt.date(1960 + i % 40, 1 + i % 12, 1 + i % 28),
                    "strasse": f"Hauptstraße {i}",
                    "plz": f"{10115 + i}",
                    "ort": "Berlin",
                    "profil": json.loads(
                        json.dumps(
                            {"twitter": f"@user{i}", "notiz": f"Rückruf an {first[i % 8]} {last[i % 8]}"}
                        )
                    ),
                    "angelegtAm": dt.datetime(2023, 1, 1),
                    "status": "aktiv",
                }
                for i in range(1, 61)
            ],
        )
        conn.execute(
            bestellungen.insert(),
            [
                {
                    "bestellNr": i,
                    "kundeId": 1 + i % 60,
                    "bestellDatum": dt.date(2024, 1, 1),
                    "betrag": i,
                    "lieferAdresse": f"Gartenweg {i}, 80331 München",
                }
                for i in range(1, 81)
            ],
        )
        conn.execute(
            zusatz.insert(),
            [
                {
                    "id": i,
                    "kundeId": 1 + i % 60,
                    "feldName": ("iban", "handy", "email")[i % 3],
                    "feldWert": ("DE89370400440532013000", f"+49 171 {3000000 + i}", f"x{i}@beispiel.de")[
                        i % 3
                    ],
                }
                for i in range(1, 61)
            ],
        )
        conn.execute(
            anrufe.insert(),
            [{"id": i, "rufnummer": f"+49151{20000000 + i * 7919}", "dauerSek": 30} for i in range(1, 41)],
        )
    engine.dispose()
    return {
        ("kunden", "vorname"): "user.name.first",
        ("kunden", "nachname"): "user.name.last",
        ("kunden", "eMail"): "user.contact.email",
        ("kunden", "telefonNummer"): "user.contact.phone_number",
        ("kunden", "geburtsdatum"): "user.demographic.date_of_birth",
        ("kunden", "strasse"): "user.contact.address.street",
        ("kunden", "plz"): "user.contact.address.postal_code",
        ("kunden", "ort"): "user.contact.address.city",
        ("kunden", "profil"): "user.content.private",
        ("bestellungen", "lieferAdresse"): "user.contact.address",
        ("zusatzfelder", "feldWert"): "user.content.private",
        ("anrufe", "rufnummer"): "user.contact.phone_number",
    }


def romance_helpdesk(url: str) -> dict[tuple[str, str], str]:
    """French and Spanish names, a payments table under legal hold, two person kinds (clients and agents)."""
    md = sa.MetaData()
    clients = sa.Table(
        "clients",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("nom", S(50)),
        sa.Column("prenom", S(50)),
        sa.Column("courriel", S(120)),
        sa.Column("portable", S(30)),
        sa.Column("adresse_ip", S(45)),
        sa.Column("date_creation", sa.DateTime),
    )
    agentes = sa.Table(
        "agentes",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("nombre_completo", S(100)),
        sa.Column("correo", S(120)),
    )
    tickets = sa.Table(
        "tickets",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("client_id", sa.Integer, sa.ForeignKey("clients.id")),
        sa.Column("agente_id", sa.Integer, sa.ForeignKey("agentes.id")),
        sa.Column("objet", S(200)),
        sa.Column("mensaje", sa.Text),
        sa.Column("priorite", S(10)),
    )
    pagos = sa.Table(
        "pagos",
        md,
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("client_id", sa.Integer, sa.ForeignKey("clients.id"), nullable=False),
        sa.Column("fecha", sa.Date),
        sa.Column("importe", sa.Numeric(10, 2)),
        sa.Column("titular", S(100)),
        sa.Column("iban", S(40)),
    )
    engine = sa.create_engine(url)
    md.drop_all(engine)
    md.create_all(engine)
    noms = ["Dubois", "Martin", "Bernard", "Moreau", "García", "López", "Rossi", "Laurent"]
    prenoms = ["Camille", "Hugo", "Chloé", "Louis", "Lucía", "Mateo", "Giulia", "Jules"]
    with engine.begin() as conn:
        conn.execute(
            clients.insert(),
            [
                {
                    "id": i,
                    "nom": noms[i % 8],
                    "prenom": prenoms[i % 8],
                    "courriel": f"c{i}@exemple.fr",
                    "portable": f"+33 6 12 34 {i:02d} {i:02d}",
                    "adresse_ip": f"2001:db8::{i:x}",
                    "date_creation": dt.datetime(2024, 1, 1),
                }
                for i in range(1, 51)
            ],
        )
        conn.execute(
            agentes.insert(),
            [
                {"id": i, "nombre_completo": f"{prenoms[i]} {noms[i]}", "correo": f"agente{i}@soporte.es"}
                for i in range(1, 5)
            ],
        )
        conn.execute(
            tickets.insert(),
            [
                {
                    "id": i,
                    "client_id": 1 + i % 50,
                    "agente_id": 1 + i % 4,
                    "objet": f"Problème de facturation {i}",
                    "mensaje": f"Bonjour, je suis {prenoms[i % 8]} {noms[i % 8]}, "
                    f"rappelez-moi au +33 6 12 34 {i % 50:02d} {i % 50:02d} svp.",
                    "priorite": "haute",
                }
                for i in range(1, 61)
            ],
        )
        conn.execute(
            pagos.insert(),
            [
                {
                    "id": i,
                    "client_id": 1 + i % 50,
                    "fecha": dt.date(2023, 5, 1),
                    "importe": i * 3,
                    "titular": f"{prenoms[i % 8]} {noms[i % 8]}",
                    "iban": "FR1420041010050500013M02606",
                }
                for i in range(1, 41)
            ],
        )
    engine.dispose()
    return {
        ("clients", "nom"): "user.name.last",
        ("clients", "prenom"): "user.name.first",
        ("clients", "courriel"): "user.contact.email",
        ("clients", "portable"): "user.contact.phone_number",
        ("clients", "adresse_ip"): "user.device.ip_address",
        ("agentes", "nombre_completo"): "user.name",
        ("agentes", "correo"): "user.contact.email",
        ("tickets", "objet"): "user.content.private",
        ("tickets", "mensaje"): "user.content.private",
        ("pagos", "titular"): "user.name",
        ("pagos", "iban"): "user.financial.bank_account",
    }


SCHEMAS: dict[str, Callable[[str], dict[tuple[str, str], str]]] = {
    "german_crm": german_crm,
    "romance_helpdesk": romance_helpdesk,
}


def scores(found: list[dict[str, object]], expected: dict[tuple[str, str], str]) -> dict[str, float]:
    """Precision and recall of personal columns, and how many categories are exactly right."""
    got = {(str(c["table"]), str(c["column"])): str(c["category"]) for c in found}
    tp = set(got) & set(expected)
    precision = len(tp) / len(got) if got else 0.0
    recall = len(tp) / len(expected) if expected else 1.0
    exact = sum(1 for k in tp if got[k] == expected[k]) / len(tp) if tp else 0.0
    return {
        "precision": round(precision, 3),
        "recall": round(recall, 3),
        "category_accuracy": round(exact, 3),
        "false_positives": sorted(f"{t}.{c}" for t, c in set(got) - set(expected)),  # type: ignore[dict-item]
        "missed": sorted(f"{t}.{c}" for t, c in set(expected) - set(got)),
    }  # type: ignore[dict-item]
