"""The zip writer of exports and the bytes of its entries, read back by the standard library and
by Info-ZIP's unzip."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from privet.requests import zipout
from privet.requests.access import _Archive, _json_row, _json_rows, _table_rows
from tests.requests.zipcheck import local_headers_agree

WHEN = (2026, 12, 6, 21, 58, 31)


def _write(path: Path, entries: list[tuple[str, bytes, str]], limit: int = 1 << 20) -> None:
    spool = zipout.Spool(path, limit)
    out = zipout.ZipOut(spool, WHEN)
    for name, data, how in entries:
        if how == "stream":
            out.add_stream(name, iter([data[i : i + 7000] for i in range(0, len(data), 7000)] or [b""]))
        else:
            out.add(name, data, deflate=how == "deflate")
        spool.roll()
    out.close()
    spool.close()


def _read_back(path: Path, entries: list[tuple[str, bytes, str]]) -> None:
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        assert [i.filename for i in z.infolist()] == [n for n, _d, _h in entries]
        for (name, data, how), info in zip(entries, z.infolist(), strict=True):
            assert z.read(name) == data
            assert info.compress_type == (zipfile.ZIP_STORED if how == "store" else zipfile.ZIP_DEFLATED)
            assert info.date_time == (2026, 12, 6, 21, 58, 30)
            assert (info.external_attr >> 16) & 0o777 == 0o600
    local_headers_agree(path)  # what a streaming reader relies on, and Python's reader ignores
    unzip = shutil.which("unzip")
    if unzip is None:
        pytest.skip("Info-ZIP unzip is not installed: the zip was checked by Python's reader only")
    tested = subprocess.run([unzip, "-tq", str(path)], capture_output=True, text=True, check=False)
    assert tested.returncode == 0, tested.stdout + tested.stderr


ENTRIES = [
    ("tables/app.users.json", b'[\n{"id":1,"email":"anna@example.com"}\n]\n', "store"),
    ("tables/app.users.csv", b"id,email\r\n1,anna@example.com\r\n", "store"),
    ("tables/app.notes.json", b"[" + b'{"note":"hello"},' * 3000 + b"]", "deflate"),
    ("files/recordings/r\u00e9sum\u00e9 \u0444\u0430\u0439\u043b.wav", os.urandom(50_000), "stream"),
    ("empty.txt", b"", "store"),
    ("empty-stream.bin", b"", "stream"),
    ("manifest.json", b'{"files": []}', "store"),
]


def test_every_entry_form_reads_back(tmp_path: Path) -> None:
    path = tmp_path / "export.zip"
    _write(path, ENTRIES)
    _read_back(path, ENTRIES)


def test_a_zip_that_outgrows_memory_continues_in_its_file(tmp_path: Path) -> None:
    """The spool moves to the file in the middle of a streamed entry (written first, in memory),
    whose header is then completed in the file."""
    path = tmp_path / "export.zip"
    big = [("b.bin", os.urandom(200_000), "stream"), ("a.bin", os.urandom(30_000), "store"), *ENTRIES]
    spool = zipout.Spool(path, 20_000)
    out = zipout.ZipOut(spool, WHEN)
    out.add_stream("b.bin", iter([big[0][1][i : i + 7000] for i in range(0, 200_000, 7000)]))
    assert spool.file is not None  # it rolled over while the entry was streamed
    for name, data, how in big[1:]:
        if how == "stream":
            out.add_stream(name, iter([data]))
        else:
            out.add(name, data, deflate=how == "deflate")
    out.close()
    spool.close()
    _read_back(path, big)


def test_zip64_fields_are_read_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The ZIP64 forms (sizes, offsets and the number of entries past the classic fields) with
    the limits lowered: the same records a 4 GiB export or 65,535 entries would get."""
    monkeypatch.setattr(zipout, "ZIP64_LIMIT", 1000)
    monkeypatch.setattr(zipout, "COUNT_LIMIT", 5)
    path = tmp_path / "export.zip"
    _write(path, ENTRIES)
    with zipfile.ZipFile(path) as z:
        assert any(i.extra for i in z.infolist())  # offsets and sizes past the lowered limit
    _read_back(path, ENTRIES)


def test_an_archive_lists_every_entry_with_its_checksum(tmp_path: Path) -> None:
    target = tmp_path / "a.zip"
    archive = _Archive(target)
    archive.write_text("information.html", "<p>\u00e9</p>")
    archive.write_bytes("files/rec/odd\x00name.wav", b"RIFF")  # a file reference with a NUL
    archive.write_bytes("tables/x.json", b"x" * 40_000)
    archive.write_stream("files/r.wav", iter([b"ab", b"cd"]))
    archive.close()
    with zipfile.ZipFile(target) as z:
        for e in archive.entries:
            data = z.read(e["path"])
            assert hashlib.sha256(data).hexdigest() == e["sha256"]
            assert len(data) == e["bytes"]
        assert [i.filename for i in z.infolist()] == [e["path"] for e in archive.entries]
        assert "files/rec/odd\ufffdname.wav" in z.namelist()


def test_information_rows_escape_table_names() -> None:
    assert _table_rows({"app.a<b": 2}) == "<tr><td>app.a&lt;b</td><td>2</td></tr>"
    assert _table_rows({}) == '<tr><td colspan="2">none</td></tr>'


@settings(max_examples=30, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1),
            st.binary(max_size=3000),
            st.sampled_from(["store", "deflate", "stream"]),
        ),
        max_size=6,
        unique_by=lambda e: e[0],
    )
)
def test_any_names_and_contents_read_back_in_python(
    tmp_path_factory: pytest.TempPathFactory, entries: list[tuple[str, bytes, str]]
) -> None:
    path = tmp_path_factory.mktemp("z") / "export.zip"
    _write(path, entries)
    with zipfile.ZipFile(path) as z:
        assert z.testzip() is None
        assert [(i.filename, z.read(i)) for i in z.infolist()] == [(n, d) for n, d, _h in entries]


def test_rows_orjson_refuses_are_written_by_the_standard_encoder() -> None:
    """A table's JSON rows (one line each) where orjson refuses a value: an integer beyond 64
    bits, a time with a time zone."""
    rows: list[dict[str, object]] = [
        {"id": 1, "n": 2**70, "at": dt.time(9, 30, tzinfo=dt.UTC)},
        {"id": 2, "n": 5, "at": None},
    ]
    out = _json_rows(rows)
    assert out == b",".join(map(_json_row, rows))
    assert [json.loads(line.lstrip(b",")) for line in out.splitlines()] == [
        {"id": 1, "n": 2**70, "at": "09:30:00+00:00"},
        {"id": 2, "n": 5, "at": None},
    ]
