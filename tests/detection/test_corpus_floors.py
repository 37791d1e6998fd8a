"""The evaluation corpus (bench/detection_corpus.py) scored by the benchmark's own harness, with floors."""

from __future__ import annotations

from bench.bench_detection import _evaluate
from bench.detection_corpus import corpus

from privet.detection import scan

STRUCTURED = ("email", "phone", "iban", "payment_card", "ip_address", "national_id", "date_of_birth")
STRUCTURED += ("social_handle",)


def test_when_the_labelled_corpus_is_scanned_then_every_type_meets_its_floor() -> None:
    messages = corpus(1500, seed=23)
    result = _evaluate(messages, [[(f.type, f.start, f.end) for f in scan(m.text)] for m in messages])
    per_type = result["per_type"]
    for kind in STRUCTURED:
        assert per_type[kind]["support"] > 10, kind
        assert per_type[kind]["f1"] >= 0.98, (kind, per_type[kind])
    assert per_type["person_name"]["f1"] >= 0.85, per_type["person_name"]
    assert per_type["postal_address"]["f1"] >= 0.80, per_type["postal_address"]
    assert result["false_alarm_rate"] <= 0.02


def test_when_a_name_follows_an_introduction_then_a_known_surname_is_enough() -> None:
    assert [(f.type, f.text) for f in scan("Hi, this is Sanne Brown")] == [("person_name", "Sanne Brown")]
    assert [(f.type, f.text) for f in scan("Salut, c'est Maëlle Dubois")] == [
        ("person_name", "Maëlle Dubois")
    ]
