"""The map loader: valid maps load; every mistake names the file, the line and the fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from privet.datamap import dump_map, load_map, parse_map
from privet.errors import MapError

GOOD = """\
version: 1
default_region: DE
stores:
  app: {url: "${APP_DATABASE_URL}"}
  recordings: {files: ./recordings}
subjects:
  customer:
    root: app.users
    identities: {email: email, phone: phone, id: id}
tables:
  app.users:
    subject: customer
    tenant_column: tenant_id
    columns:
      email: {category: contact.email}
      phone: {category: contact.phone}
      last_login_ip: {category: device.ip_address}
  app.invoices:
    subject: customer
    path: freelancer_id -> app.users
    legal_hold: {basis: accounting, years: 8, from: issued_on, retain: [freelancer_name, billing_address]}
    columns:
      freelancer_name: {category: name}
  app.calls:
    subject: customer
    match: {caller_number: phone}
    columns:
      recording_path: {category: media.voice, file_store: recordings, on_erase: delete_file}
retention:
  - table: app.calls
    age_column: started_at
    after: 90d
    actions: {caller_number: anonymize, caller_ip: generalize, recording_path: delete_file}
  - table: app.sms_messages
    age_column: received_at
    after: 30d
    actions: delete_row
"""

ENV = {"APP_DATABASE_URL": "sqlite:///app.db"}


def test_when_map_is_the_product_example_then_it_loads_with_env_expanded() -> None:
    dm = parse_map(GOOD, env=ENV)
    assert dm.stores["app"].url == "sqlite:///app.db"
    assert dm.tables["app.users"].columns["phone"].category == "user.contact.phone_number"
    hold = dm.tables["app.invoices"].legal_hold
    assert hold is not None and hold.years == 8 and hold.from_ == "issued_on"
    assert dm.tables["app.invoices"].paths[0][0].column == "freelancer_id"
    assert dm.retention[0].after_days == 90
    assert set(dm.purposes) >= {"marketing_email", "product_news", "call_recording"}
    assert all(p.opt_in for p in dm.purposes.values())


def test_when_map_is_written_and_read_back_then_it_is_the_same_map() -> None:
    dm = parse_map(GOOD, env=ENV)
    again = parse_map(dump_map(dm), env=ENV)
    assert again == dm
    assert dump_map(again) == dump_map(dm)


def test_when_file_store_folder_is_relative_then_it_resolves_beside_the_map(tmp_path: Path) -> None:
    p = tmp_path / "privet.yaml"
    p.write_text(GOOD.replace("${APP_DATABASE_URL}", "sqlite:///x.db"))
    dm = load_map(p)
    assert dm.stores["recordings"].files == str(tmp_path / "recordings")


@pytest.mark.parametrize(
    ("needle", "replacement", "line", "words"),
    [
        ("after: 90d", "after: ninety days", 32, "duration"),
        ("{category: contact.email}", "{category: contact.emial}", 15, "unknown category"),
        ("subject: customer\n    tenant_column", "subject: client\n    tenant_column", 12, "not a subject"),
        ("path: freelancer_id -> app.users", "path: freelancer_id app.users", 20, "column -> store.table"),
        ("tenant_column: tenant_id", "tenant_colum: tenant_id", 13, "unknown key 'tenant_colum'"),
        ("file_store: recordings", "file_store: tapes", 28, "not a file store"),
        ("actions: delete_row", "actions: shred", 37, "delete_row"),
        ("default_region: DE", "default_region: Germany", 2, "ISO 3166"),
        ("root: app.users", "root: users", 8, "store.table"),
        ("match: {caller_number: phone}", "match: {caller_number: fax}", 26, "not an identity"),
    ],
)
def test_when_map_has_a_mistake_then_error_names_line_and_fix(
    needle: str, replacement: str, line: int, words: str
) -> None:
    assert needle in GOOD
    with pytest.raises(MapError) as info:
        parse_map(GOOD.replace(needle, replacement, 1), source="privet.yaml", env=ENV)
    err = info.value
    assert err.path == "privet.yaml"
    assert err.line == line, str(err)
    assert words in str(err)
    assert str(err).startswith(f"privet.yaml:{line}: ")


def test_when_yaml_is_broken_then_error_names_the_line() -> None:
    with pytest.raises(MapError) as info:
        parse_map("version: 1\nstores:\n  app: {url: [unclosed\n", source="m.yaml")
    assert info.value.line is not None and info.value.line >= 3
    assert "not valid YAML" in str(info.value)


def test_when_env_var_is_missing_then_error_says_how_to_set_it() -> None:
    with pytest.raises(MapError) as info:
        parse_map(GOOD, source="m.yaml", env={})
    assert info.value.line == 4
    assert "APP_DATABASE_URL" in str(info.value) and "export" in str(info.value)


def test_when_env_var_has_a_default_then_default_is_used() -> None:
    dm = parse_map(GOOD.replace("${APP_DATABASE_URL}", "${NOPE:-sqlite:///d.db}"), env={})
    assert dm.stores["app"].url == "sqlite:///d.db"


def test_when_key_appears_twice_then_error_names_second_line() -> None:
    text = "version: 1\nstores:\n  app: {url: 'sqlite://'}\n  app: {url: 'sqlite://'}\n"
    with pytest.raises(MapError) as info:
        parse_map(text, source="m.yaml")
    assert info.value.line == 4 and "twice" in str(info.value)


def test_when_map_file_is_missing_then_error_says_how_to_create_it(tmp_path: Path) -> None:
    with pytest.raises(MapError) as info:
        load_map(tmp_path / "nope.yaml")
    assert "privet discover" in str(info.value)


def test_when_map_is_empty_then_error_says_what_to_start_with() -> None:
    with pytest.raises(MapError, match="empty"):
        parse_map("", source="m.yaml")
