"""Derived keys and the suppression list."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from privet.identity import Identity
from privet.protection import derive_key, suppression
from privet.state import open_state

MASTER = bytes(range(32))


@given(st.text(min_size=1, max_size=20), st.text(min_size=1, max_size=20))
def test_when_purposes_differ_then_keys_differ(a: str, b: str) -> None:
    assert (derive_key(MASTER, a) == derive_key(MASTER, b)) == (a == b)
    assert len(derive_key(MASTER, a)) == 32


def test_when_identity_is_suppressed_then_only_its_hash_is_stored(state_url: str) -> None:
    db = open_state(state_url)
    key = derive_key(MASTER, "suppression")
    anna = Identity("email", "anna@example.com")
    with db.session() as s:
        assert suppression.add(s, anna, key) is True
        assert suppression.add(s, anna, key) is False
    with db.session() as s:
        assert suppression.contains(s, anna, key)
        assert not suppression.contains(s, Identity("email", "bob@example.com"), key)
        assert not suppression.contains(s, anna, derive_key(MASTER, "other"))
        digests = suppression.all_digests(s)
    db.dispose()
    assert digests == {suppression.digest(anna, key)}
    assert all("anna" not in d for d in digests)
