"""Docs that cannot drift: the README's map parses, the CLI reference matches --help."""

from __future__ import annotations

import re
from pathlib import Path

import typer

from privet.cli.main import app
from privet.cli.reference import _walk, render
from privet.datamap import parse_map

ROOT = Path(__file__).resolve().parents[2]


def test_when_readme_shows_a_map_then_it_is_a_valid_map() -> None:
    text = (ROOT / "README.md").read_text()
    blocks = re.findall(r"```yaml\n(.*?)```", text, flags=re.S)
    assert blocks, "the README shows a map example"
    for block in blocks:
        parse_map(block, source="README.md", env={"APP_DATABASE_URL": "sqlite:///app.db"})


def test_when_readme_is_read_then_it_opens_with_the_two_commands() -> None:
    text = (ROOT / "README.md").read_text()
    first = text[: text.index("## Point it at")]
    assert "make demo" in first and "make test" in first


def test_when_commands_change_then_docs_cli_md_is_regenerated() -> None:
    current = (ROOT / "docs" / "cli.md").read_text()
    assert current == render(), "run: .venv/bin/python -m privet.cli.reference > docs/cli.md"


def test_when_a_command_is_listed_then_it_has_help_and_an_example() -> None:
    missing = []
    for path, cmd in _walk(typer.main.get_command(app), ["privet"]):
        if hasattr(cmd, "commands"):
            continue
        if not cmd.help or "Example" not in cmd.help:
            missing.append(" ".join(path))
    assert missing == []
