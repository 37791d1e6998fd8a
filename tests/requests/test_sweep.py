"""A batch's sweep of free text (SQLite, MariaDB): who a text may mention, looked up in one pass for
a whole group, never misses whom the mention recognizer finds there."""

from __future__ import annotations

import re
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st

from privet.detection.operators import mentions
from privet.identity import Identity
from privet.requests import access_batch
from privet.requests.matching import fold
from privet.requests.sweep import SWEEP_FROM, Lookout
from privet.settings import Settings
from tests.requests.shop import shop_map
from tests.requests.test_access import _as_alone, _build, message_fragments


def _same_ignoring_case(a: str, b: str) -> bool:
    return re.fullmatch(re.escape(a), b, re.IGNORECASE) is not None


def _cased() -> list[str]:
    """Every character with another case, or that ``re`` takes for another one."""
    out = []
    for cp in range(sys.maxunicode + 1):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        c = chr(cp)
        if c.lower() != c or c.upper() != c or fold(c) != c:
            out.append(c)
    return out


def test_when_two_letters_are_the_same_ignoring_case_then_they_fold_alike_and_keep_their_kind() -> None:
    cased = _cased()
    assert len(cased) > 2000
    by_fold: dict[str, list[str]] = {}
    for c in cased:
        f = fold(c)
        assert len(f) == 1, c
        if c != "\u0345":  # a combining mark re takes for an iota: texts holding it are read in full
            assert (re.match(r"\w", c) is None) == (re.match(r"\w", f) is None), c
        by_fold.setdefault(f, []).append(c)
    # Every pair re finds equal ignoring case folds alike: the candidates of a letter are its
    # other cases and the letters folded with it.
    for c in cased:
        if c == "\u0345":
            continue
        for other in {c.lower(), c.upper(), c.title(), c.casefold(), fold(c)} | set(by_fold.get(fold(c), [])):
            if len(other) == 1 and other != "\u0345" and _same_ignoring_case(c, other):
                assert fold(other) == fold(c), (c, other)
    # And letters re tells apart are not folded together (the lookout would find more, not less).
    assert fold("ß") != fold("s") and fold("a") != fold("ä")
    assert fold("ΟΔΟΣ") == fold("οδοσ") == fold("οδος")
    assert fold("İSTANBUL") == "istanbul"


# Names, emails and phones written with the letters where case goes wrong most often.
_LETTERS = "aAbBiIİıßsSſΣσςkKKéÉøØ"
_name_part = st.text(alphabet=_LETTERS, min_size=1, max_size=6)
_names = st.builds(
    lambda a, b, sep: f"{a}{sep}{b}", _name_part, _name_part, st.sampled_from([" ", "-", "'", " van "])
)
_emails = st.builds(
    lambda a, d: f"{a}@{d}.example",
    st.from_regex(r"[a-z]{1,6}", fullmatch=True),
    st.sampled_from(["mail", "shop"]),
)
_phones = st.sampled_from(["+491761234567", "+493012121212", "+35226123456", "+441632960961", "+4930121212"])


def _variant(value: str, how: str) -> str:
    return {
        "same": value,
        "upper": value.upper(),
        "lower": value.lower(),
        "title": value.title(),
        "swap": value.swapcase(),
    }[how]


_WRITTEN_PHONES = {
    "+491761234567": ["0176 123 4567", "+49 (176) 123-4567", "0176/1234567", "٠١٧٦١٢٣٤٥٦٧"],
    "+493012121212": ["030 1212 1212", "+49 30 12121212"],
    "+35226123456": ["+352 26 12 34 56", "26123456"],
    "+441632960961": ["+44 1632 960961", "01632 960961"],
    "+4930121212": ["030 121212", "+49 30 12 12 12"],
}


@st.composite
def _people_and_text(draw: st.DrawFn) -> tuple[list[set[Identity]], str]:
    people: list[set[Identity]] = []
    pieces: list[str] = []
    for _ in range(draw(st.integers(1, 6))):
        name, email, phone = draw(_names), draw(_emails), draw(_phones)
        people.append({Identity("name", name), Identity("email", email), Identity("phone", phone)})
        how = draw(st.sampled_from(["same", "upper", "lower", "title", "swap"]))
        kind = draw(st.sampled_from(["name", "email", "phone", "none", "inside"]))
        if kind == "name":
            pieces.append(_variant(name, how))
        elif kind == "email":
            pieces.append(_variant(email, how))
        elif kind == "phone":
            pieces.append(draw(st.sampled_from(_WRITTEN_PHONES[phone])))
        elif kind == "inside":
            pieces.append("x" + _variant(name, how) + draw(st.sampled_from(["", "y", "."])))
    filler = st.sampled_from([" ", ", ", " and ", "\n", "(", ") ", ": ", "mail ", "Tel. "])
    text = draw(filler).join(pieces) if pieces else "nothing here"
    text = draw(filler) + text + draw(filler)
    return people, text


@hsettings(max_examples=400, deadline=None)
@given(_people_and_text())
def test_when_the_recognizer_finds_someone_in_a_text_then_the_lookout_names_them(
    case: tuple[list[set[Identity]], str],
) -> None:
    people, text = case
    who = Lookout(people, "DE").who(text)
    for j, ids in enumerate(people):
        if mentions(text, ids, region="DE"):
            assert j in who, (j, ids, text)


def test_when_a_text_names_someone_in_another_case_then_the_lookout_names_them() -> None:
    people = [
        {Identity("name", "Özgür Şahin")},
        {Identity("name", "Anna Schmidt")},
        {Identity("handle", "@ıris")},
        {Identity("name", "Οδυσσέας Σ")},
        {Identity("name", "***")},  # no word character: read in full
    ]
    lookout = Lookout(people, "DE")
    assert lookout.who("ÖZGÜR ŞAHİN wrote") == {0}
    assert lookout.who("ask anna SCHMIDT") == {1}
    assert lookout.who("Annabel Schmidt and Anna Schmidtke") == set()  # a name is a whole word
    assert lookout.who("cc @IRIS") == {2}
    assert lookout.who("ΟΔΥΣΣΈΑΣ σ") == {3}
    assert lookout.who("rated ***") == {4}


def test_when_a_text_holds_a_number_then_the_lookout_names_whose_tail_it_holds() -> None:
    people = [
        {Identity("phone", "+491761234567")},
        {Identity("phone", "+441632960961")},
        {Identity("email", "a@b.example")},
    ]
    lookout = Lookout(people, "DE")
    assert lookout.who("call 0176 / 123 45 67") == {0}
    assert lookout.who("ring +44 1632 960961") == {1}
    assert lookout.who("order 4711, 2024-01-01") == set()
    # Digits of another script: everyone with a number, as the SQL search lets them through.
    assert lookout.who("رقم ٠١٧٦١٢٣٤٥٦٧") == {0, 1}
    assert lookout.who("write to A@B.example today") == {2}


def test_when_a_group_is_swept_then_each_export_holds_the_mentions_its_own_access_finds(
    shop: tuple[str, Path], settings: Settings, tmp_path: Path
) -> None:
    """Twelve people and Carl's messages naming some of them in other cases, inside other words, by email in
    capitals, by number in another script: a batch (on SQLite and MariaDB one sweep of the
    table for the group) exports exactly what access() gives each person alone."""
    url, rec = shop
    _build(
        url,
        "INSERT INTO users (id, tenant_id, email, phone, name) VALUES "
        "(4, 1, 'dora@example.com', '+49 30 1212 1212', 'Özgür Şahin'), "
        "(5, 1, 'emil@example.com', NULL, 'Emil Ek'), "
        "(6, 1, 'fay@example.com', '0151 2345 6789', 'Fay Lin')",
        (
            "INSERT INTO users (id, tenant_id, email, name) VALUES (:id, 1, :email, :name)",
            [{"id": i, "email": f"user{i}@example.com", "name": f"User {i}"} for i in range(7, 13)],
        ),
        "INSERT INTO messages (id, author_id, body) VALUES "
        "(70, 3, 'ÖZGÜR ŞAHİN called'), "
        "(71, 3, 'özgür şahin called again'), "
        "(72, 3, 'EMIL EK met emil ekberg'), "
        "(73, 3, 'write to FAY@EXAMPLE.COM please'), "
        "(74, 3, 'Tel. 030 / 1212-1212'), "
        "(75, 3, 'رقم ٠١٥١٢٣٤٥٦٧٨٩'), "
        "(76, 3, 'Annabel Schmidt is not her'), "
        "(77, 3, 'no one at all')",
    )
    dm = shop_map(url, rec)
    subjects = [f"email={n}@example.com" for n in ("anna", "bob", "dora", "emil", "fay")] + ["id=3"]
    subjects += [f"id={i}" for i in range(7, 13)]
    batch = access_batch(dm, settings, list(subjects), out_dir=tmp_path / "batch")
    assert sum(r.found for r in batch) == 12 >= SWEEP_FROM
    _as_alone(dm, settings, subjects, batch, tmp_path)

    assert "özgür şahin called again" in message_fragments(batch[2])
    assert message_fragments(batch[3]) == ["EMIL EK met emil ekberg"]
    assert message_fragments(batch[4]) == [
        "write to FAY@EXAMPLE.COM please",
        "رقم ٠١٥١٢٣٤٥٦٧٨٩",
    ]  # her number, Arabic-Indic
    assert not any("Annabel" in f for f in message_fragments(batch[0]))
