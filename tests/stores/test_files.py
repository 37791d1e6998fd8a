"""The local file store."""

from __future__ import annotations

from pathlib import Path

import pytest

from privet.errors import BadInput
from privet.stores import LocalFileStore


def test_when_file_is_deleted_twice_then_second_time_is_harmless(tmp_path: Path) -> None:
    store = LocalFileStore("rec", tmp_path)
    store.write("a/b.wav", b"RIFF")
    assert store.exists("a/b.wav") and store.read("a/b.wav") == b"RIFF"
    assert store.delete("a/b.wav") is True
    assert store.delete("a/b.wav") is False
    assert not store.exists("a/b.wav")


def test_when_reference_escapes_the_root_then_it_is_refused(tmp_path: Path) -> None:
    store = LocalFileStore("rec", tmp_path / "root")
    with pytest.raises(BadInput, match="outside"):
        store.resolve("../../etc/passwd")


def test_when_reference_is_absolute_inside_root_then_it_resolves(tmp_path: Path) -> None:
    store = LocalFileStore("rec", tmp_path)
    store.write("x.wav", b"1")
    assert store.exists(str(tmp_path / "x.wav"))
    assert store.exists("file://x.wav")
