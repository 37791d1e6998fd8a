"""Restriction, objection and the file journal's recovery, on SQLite, PostgreSQL and MariaDB."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa

from privet.consent import ConsentService
from privet.datamap.model import PurposeSpec
from privet.errors import UnknownName
from privet.protection import derive_key, suppression
from privet.requests import erase, is_restricted, journal, object_to, restrict
from privet.requests.models import FileJournal, Restriction
from privet.settings import Settings
from privet.state import open_state
from privet.stores import Stores
from tests.requests.shop import shop_map


def test_when_anna_is_restricted_then_each_of_her_identities_answers_restricted_and_bob_does_not(
    shop: tuple[str, Path], settings: Settings
) -> None:
    url, rec = shop
    dm = shop_map(url, rec)
    assert not is_restricted(dm, settings, "email=anna@example.com")
    report = restrict(dm, settings, "email=ANNA@example.com", reason="accuracy contested")
    assert report["found"] and report["restriction"] and report["identities"] >= 3
    # Found again by the phone as people type it, and by her id.
    assert is_restricted(dm, settings, "phone=0176 1234567")
    assert is_restricted(dm, settings, "id=1")
    assert not is_restricted(dm, settings, "email=bob@example.com")
    db = open_state(settings.resolved_state_url)
    with db.session() as s:
        reasons = {
            r for (r,) in s.execute(sa.select(Restriction.reason).where(Restriction.kind == "restriction"))
        }
        entries = [str(v) for v in s.execute(sa.text("SELECT target, details FROM privet_audit")).all()]
    db.dispose()
    assert reasons == {"accuracy contested"}
    assert entries and not any("anna" in e.lower() or "1234567" in e for e in entries)


def test_when_anna_objects_then_marketing_consent_ends_call_recording_stays_and_she_is_suppressed(
    shop: tuple[str, Path], settings: Settings
) -> None:
    url, rec = shop
    dm = shop_map(url, rec)
    assert {n for n, p in dm.purposes.items() if p.is_marketing} == {"marketing_email", "product_news"}
    db = open_state(settings.resolved_state_url)
    consent = ConsentService(db, dm, settings.master_key())
    for purpose in ("marketing_email", "product_news", "call_recording"):
        consent.record("email=anna@example.com", purpose, True, source="signup")
        consent.record("email=bob@example.com", purpose, True, source="signup")
    report = object_to(dm, settings, "email=anna@example.com", state=db)
    assert report["objection"] and report["withdrawn"] == ["marketing_email", "product_news"]
    # Answers as another process sees them (this service's cache still holds its own grants).
    consent = ConsentService(db, dm, settings.master_key())
    assert not consent.check("email=anna@example.com", "marketing_email").allowed
    assert not consent.check("email=anna@example.com", "product_news").allowed
    assert consent.check("email=anna@example.com", "call_recording").allowed, "not a marketing purpose"
    assert consent.check("email=bob@example.com", "marketing_email").allowed
    key = derive_key(settings.master_key(), "suppression")
    with db.session() as s:
        # Every identity of hers is suppressed, whichever one the objection named.
        assert suppression.contains(s, consent.identity("email=anna@example.com"), key)
        assert suppression.contains(s, consent.identity("phone=+491761234567"), key)
        assert not suppression.contains(s, consent.identity("email=bob@example.com"), key)
    # An objection that names a purpose ends that one too.
    report = object_to(dm, settings, "email=anna@example.com", purposes=["call_recording"], state=db)
    assert report["withdrawn"] == ["call_recording"]
    consent = ConsentService(db, dm, settings.master_key())
    assert not consent.check("email=anna@example.com", "call_recording").allowed
    db.dispose()


def test_when_an_objection_comes_by_phone_then_every_identity_of_hers_stops_and_offers_by_post_too(
    shop: tuple[str, Path], settings: Settings
) -> None:
    """Decisions recorded under her email end when she objects by phone; a purpose based on
    legitimate interests without a marketing flag (offers by post) counts as direct marketing."""
    url, rec = shop
    dm = shop_map(url, rec)
    dm.purposes["postal_offers"] = PurposeSpec(basis="legitimate_interests", description="Offers by post")
    db = open_state(settings.resolved_state_url)
    consent = ConsentService(db, dm, settings.master_key())
    consent.record("email=anna@example.com", "call_recording", True, source="signup")
    assert consent.check("email=anna@example.com", "postal_offers").allowed  # legitimate interests
    report = object_to(dm, settings, "phone=0176 1234567", state=db)
    assert report["withdrawn"] == ["marketing_email", "postal_offers", "product_news"]
    consent = ConsentService(db, dm, settings.master_key())
    assert not consent.check("email=anna@example.com", "postal_offers").allowed
    assert consent.check("email=anna@example.com", "call_recording").allowed
    object_to(dm, settings, "phone=0176 1234567", purposes=["call_recording"], state=db)
    consent = ConsentService(db, dm, settings.master_key())
    assert not consent.check("email=anna@example.com", "call_recording").allowed
    db.dispose()


def test_when_an_objection_names_an_unknown_purpose_then_it_is_refused_and_nothing_is_recorded(
    shop: tuple[str, Path], settings: Settings
) -> None:
    url, rec = shop
    dm = shop_map(url, rec)
    db = open_state(settings.resolved_state_url)
    with pytest.raises(UnknownName, match="newsletter") as info:
        object_to(dm, settings, "email=anna@example.com", purposes=["newsletter"], state=db)
    assert "marketing_email" in (info.value.hint or "")
    key = derive_key(settings.master_key(), "suppression")
    consent = ConsentService(db, dm, settings.master_key())
    with db.session() as s:
        assert not suppression.contains(s, consent.identity("email=anna@example.com"), key)
        assert s.execute(sa.select(sa.func.count()).select_from(Restriction)).scalar_one() == 0
    db.dispose()


def test_when_a_run_stopped_between_commit_and_file_deletion_then_the_next_request_finishes_it(
    shop: tuple[str, Path], settings: Settings
) -> None:
    """The journal states a crash leaves behind, made with the journal's own steps: a committed
    erasure whose file is still there (entry committed, or still pending because the crash came
    right after the commit), and a transaction that never committed (entry pending, row still
    naming the file). The next request deletes the first two files and keeps the third."""
    url, rec = shop
    dm = shop_map(url, rec)
    db = open_state(settings.resolved_state_url)
    engine = sa.create_engine(url)
    with engine.begin() as conn:  # the erasure's store transaction committed for calls 30 and 31
        conn.execute(sa.text("DELETE FROM calls WHERE id IN (30, 31)"))
    engine.dispose()
    committed = journal.add_pending(db, "cert-1", [("rec", "shop.calls.recording", "a1.wav")])
    journal.mark_committed(db, committed)
    journal.add_pending(db, "cert-2", [("rec", "shop.calls.recording", "a2.wav")])  # crash before marking
    journal.add_pending(db, "cert-3", [("rec", "shop.calls.recording", "b1.wav")])  # row 32 still names it
    assert all((rec / f).exists() for f in ("a1.wav", "a2.wav", "b1.wav"))
    # The next request, about somebody else, finishes what the stopped run left.
    result = erase(dm, settings, "email=carl@example.org", state=db)
    assert result.files_deleted == 2
    assert not (rec / "a1.wav").exists() and not (rec / "a2.wav").exists()
    assert (rec / "b1.wav").exists(), "its transaction never committed: the row and its file stay"
    with db.session() as s:
        states = {r: st for r, st in s.execute(sa.select(FileJournal.ref, FileJournal.state)).all()}
    assert states == {"a1.wav": "done", "a2.wav": "done", "b1.wav": "dropped"}
    # Settled entries are not looked at again.
    with Stores(dm) as stores:
        assert journal.finish(db, stores) == 0
    db.dispose()
