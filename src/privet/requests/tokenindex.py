"""MariaDB: the token indexes that let the mention and verification searches of a free-text column
look people up instead of reading the whole column (MariaDB has no trigram index, and its own
full-text parser cuts words where Python's ``re`` does not).

Per column a table ``privet_tokens_<table>_<column>`` holds, for every row of the table, the
tokens of its text in one column under an InnoDB ``FULLTEXT`` index, kept current by three
triggers on the table (insert, delete, update of the key or the text), so that every writer of
the database keeps it right, Privet or not. The tokens are spelled so that InnoDB's parser
reads each of them whole, and so that a person's mention always leaves tokens a search can ask
for:

- ``x<word>``: every word of the text, a word being a run of the characters of ``WORD_RANGES``
  (Latin, Greek and Cyrillic letters, ASCII digits and ``_``: every one of them a word character
  to Python, and with them every character Python's case-blind match takes for one of them),
  lowercased and folded the same way in SQL and in Python (``canonical``). Everything else
  cuts words, so a name matched as a whole word (``name_pattern``) and an address the email
  recognizer finds leave their own words as tokens.
- ``p<digits>``: at every ASCII digit of the text with phone punctuation and the white space met
  in numbers stripped (``text_digits``), the up to ``MENTION_TAIL`` digits that end there,
  reversed: a number's tail written in any format is one exact token (a shorter tail, the
  start of one).
- ``qunsure``: a text holding a decimal digit of another script, which the phone recognizer reads
  and the stripped text does not; every phone search lets those through.

A search asks, per person, for the tokens of each identity (``token_query``); the rows it finds
go to the recognizers as the rows a search of the column finds do.
A person one of whose identities leaves no token long enough to be indexed is searched in the
column as before (``SCAN``). The searches use the indexes only when every object is there as this
version creates it and the server lowercases as expected (``store_indexes``); ``privet map
check`` advises the statements (``TokenIndex.statements``)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects import mysql
from sqlalchemy.engine import Connection

from privet.identity import Identity
from privet.requests import phoneindex
from privet.requests.matching import (
    MENTION_TAIL,
    Shape,
    identity_params,
    mention_filter_bound,
    other_script_digits,
    phone_tail,
    text_digits,
    utf8mb4,
)
from privet.requests.phoneindex import PhoneIndex
from privet.requests.sideindex import EVENTS, SideIndex, quote
from privet.stores import TableInfo

# The characters words are made of: Latin, Greek and Cyrillic letters, ASCII digits and ``_``,
# closed under Python's case-blind equality (``re.IGNORECASE``), less the few classes in which
# it and the server's LOWER() disagree beyond what ``FOLDS`` mends and the class of the iota,
# which holds a character Python does not call a word character (U+0345). Tests check all of
# it against the running Python and server.
WORD_RANGES = (
    (0x30, 0x39),
    (0x41, 0x5A),
    (0x5F, 0x5F),
    (0x61, 0x7A),
    (0xB5, 0xB5),
    (0xC0, 0xD6),
    (0xD8, 0xF6),
    (0xF8, 0x17F),
    (0x181, 0x199),
    (0x19B, 0x19D),
    (0x19F, 0x21F),
    (0x221, 0x239),
    (0x253, 0x254),
    (0x256, 0x257),
    (0x259, 0x259),
    (0x25B, 0x25B),
    (0x260, 0x260),
    (0x263, 0x263),
    (0x268, 0x269),
    (0x26F, 0x26F),
    (0x272, 0x272),
    (0x275, 0x275),
    (0x280, 0x280),
    (0x283, 0x283),
    (0x288, 0x288),
    (0x28A, 0x28B),
    (0x292, 0x292),
    (0x374, 0x374),
    (0x37A, 0x37A),
    (0x386, 0x386),
    (0x388, 0x38A),
    (0x38C, 0x38C),
    (0x38E, 0x38F),
    (0x391, 0x398),
    (0x39A, 0x3A1),
    (0x3A3, 0x3AF),
    (0x3B1, 0x3B8),
    (0x3BA, 0x3CE),
    (0x3D0, 0x3D6),
    (0x3DA, 0x3F1),
    (0x3F4, 0x3F5),
    (0x3FC, 0x3FC),
    (0x400, 0x481),
    (0x48C, 0x4BF),
    (0x4C1, 0x4C4),
    (0x4C7, 0x4C8),
    (0x4CB, 0x4CC),
    (0x4D0, 0x4F5),
    (0x4F8, 0x4F9),
    (0x1C80, 0x1C87),
    (0x1E9E, 0x1E9E),
    (0x2126, 0x2126),
    (0x212A, 0x212B),
)
# Characters of those words that the server's LOWER() leaves as they are (or, for U+0130,
# Python's lower() makes two characters of), and the lowercase letter Python's case-blind match
# takes them for: applied after LOWER() in SQL and instead of lower() in Python.
FOLDS = {
    "\u00b5": "\u03bc",
    "\u0130": "i",
    "\u0131": "i",
    "\u017f": "s",
    "\u03c2": "\u03c3",
    "\u03d0": "\u03b2",
    "\u03d1": "\u03b8",
    "\u03d5": "\u03c6",
    "\u03d6": "\u03c0",
    "\u03f0": "\u03ba",
    "\u03f1": "\u03c1",
    "\u03f4": "\u03b8",
    "\u03f5": "\u03b5",
    "\u1c80": "\u0432",
    "\u1c81": "\u0434",
    "\u1c82": "\u043e",
    "\u1c83": "\u0441",
    "\u1c84": "\u0442",
    "\u1c85": "\u0442",
    "\u1c86": "\u044a",
    "\u1c87": "\u0463",
    "\u1e9e": "\u00df",
}
WORD_CHARS = "".join(chr(c) for a, b in WORD_RANGES for c in range(a, b + 1))
_CANONICAL = {c: FOLDS.get(c, c.lower()) for c in WORD_CHARS}
# What the words are made of once lowered and folded.
CANONICAL_CHARS = "".join(sorted(set(_CANONICAL.values())))

WORD, PHONE, UNSURE_TOKEN = "x", "p", "qunsure"
# The marker a person's search shape carries when one of their identities leaves no token the
# index holds (``searched_shape``): their search reads the column.
SCAN = "scan"
# The server settings the tokens are spelled for: tokens of 3 to 84 characters are indexed (a
# shorter or longer one is not asked for), and no stop word starts with x, p or q.
MIN_TOKEN, MAX_TOKEN = 3, 84
_SETTINGS = (
    "SELECT @@innodb_ft_min_token_size, @@innodb_ft_max_token_size, @@innodb_ft_enable_stopword, "
    "@@innodb_ft_server_stopword_table, @@innodb_ft_user_stopword_table"
)
_DIALECT = mysql.dialect()


def _class(chars: str) -> str:
    """Characters as the inside of a bracket expression of the server's PCRE2 (UTF-8), as ranges."""
    codes = sorted({ord(c) for c in chars})
    out: list[str] = []
    start = prev = codes[0]
    for c in [*codes[1:], -1]:
        if c == prev + 1:
            prev = c
            continue
        out.append(chr(start) if start == prev else f"{chr(start)}-{chr(prev)}")
        start = prev = c
    return "".join(out)


def canonical(text: str) -> str:
    """The text as the index spells its words: word characters lowered and folded, every other
    character a space."""
    return "".join(_CANONICAL.get(c, " ") for c in text)


def words(text: str) -> list[str]:
    """The words of a text as the index holds them (without their ``x``)."""
    return canonical(text).split()


def _literal(value: str) -> str:
    return "'" + value.replace("\\", "\\\\").replace("'", "''") + "'"


def folded_sql(text: str) -> str:
    """SQL: the text lowered and folded as ``canonical`` lowers and folds its word characters."""
    out = f"LOWER({text})"
    for source, target in FOLDS.items():
        out = f"REPLACE({out}, {_literal(source)}, {_literal(target)})"
    return out


def _byte_class(chars: str) -> str:
    """A regular expression of bytes for one of these characters in UTF-8: the server reads a
    binary text in one pass, where on text in a character set it takes time in the square of
    its length (82 kB of text: 1.4 s against 6 ms)."""
    by_lead: dict[bytes, list[int]] = {}
    for c in chars:
        b = c.encode()
        by_lead.setdefault(b[:-1], []).append(b[-1])

    def ranges(values: list[int]) -> str:
        out, values = [], sorted(set(values))
        start = prev = values[0]
        for v in [*values[1:], -1]:
            if v == prev + 1:
                prev = v
                continue
            out.append(f"\\\\x{start:02X}" if start == prev else f"\\\\x{start:02X}-\\\\x{prev:02X}")
            start = prev = v
        return "[" + "".join(out) + "]"

    parts = ["".join(f"\\\\x{x:02X}" for x in lead) + ranges(last) for lead, last in sorted(by_lead.items())]
    return "(?:" + "|".join(parts) + ")"


# One character of UTF-8, from its first byte (a search that would start on a following byte,
# inside a character, does not).
_ANY_CHAR = "(?![\\\\x80-\\\\xBF])(?:[\\\\x00-\\\\x7F]|[\\\\xC0-\\\\xFF][\\\\x80-\\\\xBF]*)"


def tokens_sql(text: str) -> str:
    """SQL: the tokens of a text (an expression in utf8mb4), separated by spaces. The regular
    expressions read the text's bytes (``_byte_class``)."""
    word = _byte_class(CANONICAL_CHARS)
    folded = f"CAST({folded_sql(text)} AS BINARY)"
    # Runs of characters that are not word characters become a space, then each word takes its x.
    cut = f"'(?:(?!{word}){_ANY_CHAR})+'"
    words_sql = f"REGEXP_REPLACE(REGEXP_REPLACE({folded}, {cut}, ' '), '([^ ]+)', '{WORD}\\\\1')"
    digits = f"CAST({_compile(text_digits(sa.literal_column(text)))} AS BINARY)"
    window = f"(?=([0-9]{{1,{MENTION_TAIL}}}))[0-9]"
    phones_sql = (
        f"REGEXP_REPLACE(REGEXP_REPLACE(REVERSE({digits}), '[^0-9]+', ' '), '{window}', '{PHONE}\\\\1 ')"
    )
    unsure = _compile(other_script_digits(sa.literal_column(text), "mariadb"))
    return (
        f"CONVERT(CONCAT_WS(' ', {words_sql}, IF({text} REGEXP '[0-9]', {phones_sql}, NULL), "
        f"IF({unsure}, '{UNSURE_TOKEN}', NULL)) USING utf8mb4)"
    )


def _spelling() -> str:
    """A digest of how this version spells the tokens."""
    return hashlib.sha256(tokens_sql("t").encode()).hexdigest()[:8]


def _compile(expr: sa.ColumnElement[Any]) -> str:
    return str(expr.compile(dialect=_DIALECT, compile_kwargs={"literal_binds": True}))


SPELLING = _spelling()


@dataclass(frozen=True)
class TokenIndex(SideIndex):
    """The token index of one free-text column: the tokens of each row's text (column
    ``tokens``) under a full-text index."""

    prefix = "privet_tokens_"
    spelling = SPELLING
    value_column = "tokens"
    value_type = "LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL"
    value_index = "FULLTEXT INDEX privet_tokens (tokens)"

    def value(self, row: str) -> str:
        text = _compile(utf8mb4(sa.literal_column(f"{row}.{quote(self.column)}")))
        return f"COALESCE({tokens_sql(text)}, '')"


def indexable(table: sa.Table, column: str) -> TokenIndex | None:
    """The column's token index, when its table has a one-column primary key."""
    return TokenIndex.of_table(table, column)


@dataclass(frozen=True)
class Catalog:
    """What a MariaDB database holds of the token indexes: the tables their triggers are on, by
    name; the tables of tokens with their full-text index; and why the server does not index or
    lowercase as the tokens are spelled for (``_unusable``; None when it does)."""

    triggers: dict[str, str]
    tables: frozenset[str]
    why: str | None
    # The tables of the number indexes of phone columns (``privet.requests.phoneindex``).
    phones: frozenset[str] = frozenset()

    def current(self, index: TokenIndex) -> bool:
        """Whether the index is there as this version creates it, and usable."""
        return (
            self.why is None
            and index.name in self.tables
            and all(self.triggers.get(index.trigger(e)) == index.table for e in EVENTS)
        )

    def has(self, index: PhoneIndex) -> bool:
        """Whether a number index is there as this version creates it."""
        return index.name in self.phones and all(
            self.triggers.get(index.trigger(e)) == index.table for e in EVENTS
        )

    def serves(self, index: SideIndex) -> bool:
        """``current`` for a token index, ``has`` for a number index."""
        return self.has(index) if isinstance(index, PhoneIndex) else self.current(cast(TokenIndex, index))

    @property
    def empty(self) -> bool:
        """Whether the database holds no index of either kind."""
        return not self.tables and not self.phones

    def stale(self, index: SideIndex) -> list[str]:
        """The triggers on the index's table that another version of it created."""
        mine = {index.trigger(e) for e in EVENTS}
        prefix = index.stale_prefix()
        return sorted(
            n for n, t in self.triggers.items() if t == index.table and n.startswith(prefix) and n not in mine
        )


def catalog(conn: Connection) -> Catalog:
    """Read the database's token and number indexes and the server's settings (three small
    queries)."""
    triggers = {
        name: table
        for name, table in conn.exec_driver_sql(
            "SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE FROM information_schema.TRIGGERS "
            "WHERE TRIGGER_SCHEMA = DATABASE() AND (TRIGGER_NAME LIKE 'privet\\\\_tokens\\\\_%%' "
            "OR TRIGGER_NAME LIKE 'privet\\\\_phones\\\\_%%')"
        )
    }
    found: dict[str, set[str]] = {"privet_tokens": set(), phoneindex.INDEX: set()}
    for name, index in conn.exec_driver_sql(
        "SELECT DISTINCT TABLE_NAME, INDEX_NAME FROM information_schema.STATISTICS "
        "WHERE TABLE_SCHEMA = DATABASE() AND ((INDEX_NAME = 'privet_tokens' AND INDEX_TYPE = 'FULLTEXT') "
        f"OR (INDEX_NAME = '{phoneindex.INDEX}' AND INDEX_TYPE = 'BTREE'))"
    ):
        found[index].add(name)
    tables = frozenset(found["privet_tokens"])
    return Catalog(triggers, tables, _unusable(conn) if tables else None, frozenset(found[phoneindex.INDEX]))


def _unusable(conn: Connection) -> str | None:
    """Why the server does not index or lowercase as the tokens are spelled for, or None."""
    # The settings and the word characters lowered, in one round trip.
    statement = sa.text(f"{_SETTINGS}, {folded_sql('CONVERT(:w USING utf8mb4)')}")
    got = conn.execute(statement, {"w": WORD_CHARS}).one()
    low, high, stop, server_list, user_list, lowered = got
    if int(low) > MIN_TOKEN or int(high) < MAX_TOKEN:
        return f"innodb_ft_min_token_size is {low} and innodb_ft_max_token_size {high} (need ≤ 3 and ≥ 84)"
    if int(stop) and (server_list or user_list):
        return "a stop word table of the server's own is set (innodb_ft_*_stopword_table)"
    if lowered != "".join(_CANONICAL[c] for c in WORD_CHARS):
        return "the server's LOWER() lowercases letters otherwise than this version of Privet expects"
    return None


def drop_trigger(name: str) -> str:
    return f"DROP TRIGGER IF EXISTS {quote(name)}"


def indexable_info(info: TableInfo, column: str) -> TokenIndex | None:
    """``indexable`` for an introspected table."""
    return TokenIndex.of_info(info, column)


def create(conn: Connection, index: SideIndex) -> None:
    """The index (a token or a number index) created, any earlier one of this or another version
    replaced, and filled. The server commits each statement (``SideIndex.statements``)."""
    stale = [drop_trigger(name) for name in catalog(conn).stale(index)]
    for sql in [*stale, *index.drop_statements(), *index.statements()]:
        conn.exec_driver_sql(sql)


def token_query(identities: Iterable[Identity]) -> str | None:
    """The full-text query (boolean mode) that finds the rows whose text may mention one of these
    identities: per address or name, all of its words (a row holding them all); per number, its
    tail, and the texts marked unsure. None when one of them leaves no token the index holds (a
    name of one letter, a word of no word character)."""
    groups: list[str] = []
    phones = False
    for i in identities:
        if i.kind in ("email", "name"):
            found = [w for w in dict.fromkeys(words(i.value)) if MIN_TOKEN <= len(w) + 1 <= MAX_TOKEN]
            if not found:
                return None
            groups.append("(" + " ".join(f"+{WORD}{w}" for w in found) + ")")
        elif i.kind == "phone":
            tail = phone_tail(i.value, MENTION_TAIL)
            if len(tail) + 1 < MIN_TOKEN:
                return None
            groups.append(f"{PHONE}{tail[::-1]}" + ("" if len(tail) == MENTION_TAIL else "*"))
            phones = True
    if phones:
        groups.append(UNSURE_TOKEN)
    return " ".join(groups)


def searched_shape(shape: Shape, identities: Iterable[Identity]) -> Shape:
    """A person's search shape with ``SCAN`` when the token index cannot find them."""
    return (*shape, (SCAN, 1)) if token_query(identities) is None else shape


def mention_filter(
    table: sa.Table, col: str, shape: Shape, prefix: str, dialect: str, index: TokenIndex
) -> sa.ColumnElement[bool] | None:
    """The rows whose key the column's token index gives for the person's tokens (parameter
    ``<prefix>tokens``, ``token_query``); ``mention_filter_bound`` for a person it cannot find."""
    counts = dict(shape)
    plain = tuple(item for item in shape if item[0] != SCAN)
    bound = mention_filter_bound(table, col, plain, prefix, dialect)
    if bound is None or counts.get(SCAN):
        return bound
    tokens = sa.table(index.name, sa.column("k"), sa.column("tokens"))
    found = mysql.match(
        tokens.c.tokens, against=sa.bindparam(f"{prefix}tokens", type_=sa.String(), required=True)
    ).in_boolean_mode()
    # Not narrowed further by the search of the column: its LIKE on lower() misses letters the
    # server does not lowercase as Python's case-blind match takes them (a capital sharp s).
    return table.c[index.key].in_(sa.select(tokens.c.k).where(found))


def search_params(identities: Iterable[Identity], prefix: str = "") -> dict[str, str]:
    """``identity_params`` and, for a search through a token index, ``<prefix>tokens``."""
    ids = list(identities)
    return identity_params(ids, prefix) | {f"{prefix}tokens": token_query(ids) or ""}
