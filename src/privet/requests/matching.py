"""SQL predicates that find a person's identifiers in stored values, in any written format."""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import Any

import phonenumbers
import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import ARRAY, TSQUERY, TSVECTOR

from privet.identity import Identity, try_normalize_phone
from privet.stores.sql import CASELESS, SQLITE_OTHER_DIGITS

_PHONE_NOISE = (" ", "-", "(", ")", ".", "/", "+")


@functools.lru_cache(maxsize=1024)
def digits_only(col: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """The column with phone punctuation stripped, in SQL every dialect runs (nested REPLACE);
    built once per column (a column object lives as long as its reflected table)."""
    expr: sa.ColumnElement[Any] = col
    for ch in _PHONE_NOISE:
        # Inline constants (ours, never user input) so an expression index on the same chain applies.
        expr = sa.func.replace(expr, sa.literal_column(f"'{ch}'"), sa.literal_column("''"))
    return expr


# Python's ``re`` (the phone recognizer) and PostgreSQL's regular expressions disagree on what
# \s, \w and \d are outside ASCII, so the classes are spelled out (tests check them against the
# running Python): Python's white space; its decimal digits beyond ASCII; and a set of non-ASCII
# characters that holds every one Python calls a word character (all of them but the
# punctuation and symbol blocks U+0080-00BF, U+2000-2BFF, U+3000-303F, U+FE30-FE6F and
# U+FF00-FF0F, plus the word characters of those blocks).
PY_SPACES = (
    (0x9, 0xD),
    (0x1C, 0x20),
    (0x85, 0x85),
    (0xA0, 0xA0),
    (0x1680, 0x1680),
    (0x2000, 0x200A),
    (0x2028, 0x2029),
    (0x202F, 0x202F),
    (0x205F, 0x205F),
    (0x3000, 0x3000),
)
PY_OTHER_DIGITS = (
    (0x660, 0x669),
    (0x6F0, 0x6F9),
    (0x7C0, 0x7C9),
    (0x966, 0x96F),
    (0x9E6, 0x9EF),
    (0xA66, 0xA6F),
    (0xAE6, 0xAEF),
    (0xB66, 0xB6F),
    (0xBE6, 0xBEF),
    (0xC66, 0xC6F),
    (0xCE6, 0xCEF),
    (0xD66, 0xD6F),
    (0xDE6, 0xDEF),
    (0xE50, 0xE59),
    (0xED0, 0xED9),
    (0xF20, 0xF29),
    (0x1040, 0x1049),
    (0x1090, 0x1099),
    (0x17E0, 0x17E9),
    (0x1810, 0x1819),
    (0x1946, 0x194F),
    (0x19D0, 0x19D9),
    (0x1A80, 0x1A89),
    (0x1A90, 0x1A99),
    (0x1B50, 0x1B59),
    (0x1BB0, 0x1BB9),
    (0x1C40, 0x1C49),
    (0x1C50, 0x1C59),
    (0xA620, 0xA629),
    (0xA8D0, 0xA8D9),
    (0xA900, 0xA909),
    (0xA9D0, 0xA9D9),
    (0xA9F0, 0xA9F9),
    (0xAA50, 0xAA59),
    (0xABF0, 0xABF9),
    (0xFF10, 0xFF19),
    (0x104A0, 0x104A9),
    (0x10D30, 0x10D39),
    (0x11066, 0x1106F),
    (0x110F0, 0x110F9),
    (0x11136, 0x1113F),
    (0x111D0, 0x111D9),
    (0x112F0, 0x112F9),
    (0x11450, 0x11459),
    (0x114D0, 0x114D9),
    (0x11650, 0x11659),
    (0x116C0, 0x116C9),
    (0x11730, 0x11739),
    (0x118E0, 0x118E9),
    (0x11950, 0x11959),
    (0x11C50, 0x11C59),
    (0x11D50, 0x11D59),
    (0x11DA0, 0x11DA9),
    (0x16A60, 0x16A69),
    (0x16AC0, 0x16AC9),
    (0x16B50, 0x16B59),
    (0x1D7CE, 0x1D7FF),
    (0x1E140, 0x1E149),
    (0x1E2F0, 0x1E2F9),
    (0x1E950, 0x1E959),
    (0x1FBF0, 0x1FBF9),
)
PY_WORD_BEYOND_ASCII = (
    (0xC0, 0x1FFF),
    (0x2C00, 0x2FFF),
    (0x3040, 0xD7FF),
    (0xE000, 0xFE2F),
    (0xFE70, 0xFEFF),
    (0xFF10, 0x10FFFF),
    (0xAA, 0xAA),
    (0xB2, 0xB3),
    (0xB5, 0xB5),
    (0xB9, 0xBA),
    (0xBC, 0xBE),
    (0x2070, 0x2071),
    (0x2074, 0x2079),
    (0x207F, 0x2089),
    (0x2090, 0x209C),
    (0x2102, 0x2102),
    (0x2107, 0x2107),
    (0x210A, 0x2113),
    (0x2115, 0x2115),
    (0x2119, 0x211D),
    (0x2124, 0x2124),
    (0x2126, 0x2126),
    (0x2128, 0x2128),
    (0x212A, 0x212D),
    (0x212F, 0x2139),
    (0x213C, 0x213F),
    (0x2145, 0x2149),
    (0x214E, 0x214E),
    (0x2150, 0x2189),
    (0x2460, 0x249B),
    (0x24EA, 0x24FF),
    (0x2776, 0x2793),
    (0x3005, 0x3007),
    (0x3021, 0x3029),
    (0x3031, 0x3035),
    (0x3038, 0x303C),
)


def _pg_class(ranges: tuple[tuple[int, int], ...]) -> str:
    """Code point ranges as the inside of a bracket expression of PostgreSQL (escapes only)."""

    def esc(c: int) -> str:
        return f"\\u{c:04x}" if c <= 0xFFFF else f"\\U{c:08x}"

    return "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in ranges)


# What separates the digits of a written number: white space and phone punctuation.
_SEPARATOR = _pg_class(PY_SPACES) + "()./-"
# The phone recognizer's candidates (``PhoneRecognizer.pattern``) in PostgreSQL: the same runs
# of ASCII digits and separators, cut at the same places (longest match, at most 24 characters
# from the first digit, ending on a digit no word character follows), where no non-ASCII word
# character touches a number and no other script's digit is in the text.
PG_PHONE_CANDIDATE = (
    r"(?<![0-9A-Za-z_+])(?:\+|00)?\(?[0-9][0-9" + _SEPARATOR + r"]{5,22}[0-9](?![0-9A-Za-z_])"
)
# Where the tails they give may disagree (PostgreSQL's word boundaries know ASCII only): a digit
# of another script, or a non-ASCII word character touching a number that a separator continues
# on its other side. A number started by such a character is a candidate only in PostgreSQL,
# and one it ends only in Python, which then cuts the run of digits and separators at an
# earlier separator; the start may move PostgreSQL's cuts further on (at most 24 characters
# from it), the end moves its last cut. Where no separator continues the number (Japanese or
# Chinese text: 注文番号12345を), Python reads no number in that run at all, and PostgreSQL's
# extra tail only lets more rows through. A text so marked carries the token ``u``, which
# every search lets through to the recognizer.
_WORD = _pg_class(PY_WORD_BEYOND_ASCII)
PG_PHONE_UNSURE = (
    f"[{_WORD}][+(]|[{_WORD}][0-9]+[{_SEPARATOR}]|[{_SEPARATOR}][0-9]+[{_WORD}]"
    f"|[{_pg_class(PY_OTHER_DIGITS)}]"
)
UNSURE = "u"
MENTION_TAIL = 7  # digits of a number's tail that the mention searches compare


@functools.lru_cache(maxsize=1024)
def phone_tokens(col: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """PostgreSQL: the numbers of free text as a tsvector a GIN index keeps: every candidate the
    phone recognizer would read, as the last ``MENTION_TAIL`` of its digits reversed (and the
    other digit runs of the text likewise, which only lets more rows through), and ``UNSURE``
    where the two kinds of regular expression may cut the text differently. A number written in
    any format ends with its tail, so ``phone_tokens(col) @@ tail`` finds the rows whose text
    may hold it with one exact index lookup, where a trigram search of digits intersects long
    lists of common digit trigrams. Constants inline, so that the index map check advises
    matches the expression."""

    def lit(sql: str) -> sa.ColumnElement[Any]:
        return sa.literal_column(sql)

    g = lit("'g'")
    marked = sa.func.regexp_replace(col, lit(f"'{PG_PHONE_CANDIDATE}'"), lit(r"',\&,'"), g)
    digits = sa.func.reverse(sa.func.regexp_replace(marked, lit("'[^0-9,]+'"), lit("''"), g))
    tails = sa.func.regexp_replace(digits, lit(f"'([0-9]{{{MENTION_TAIL}}})[0-9]+'"), lit(r"'\1'"), g)
    unsure = sa.case((col.op("~")(lit(f"'{PG_PHONE_UNSURE}'")), lit(f"',{UNSURE}'")), else_=lit("''"))
    words = sa.func.array_remove(sa.func.regexp_split_to_array(tails.op("||")(unsure), lit("','")), lit("''"))
    return sa.func.array_to_tsvector(words, type_=TSVECTOR)


# White space met inside written numbers, which text_digits strips besides phone punctuation.
_TEXT_SPACES = "\t\n\r\x0b\x0c\u00a0\u2007\u2009\u202f\u3000"


@functools.lru_cache(maxsize=1024)
def text_digits(col: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """SQLite and MariaDB: free text with phone punctuation and the white space found in numbers
    (tabs, line breaks, no-break, figure, thin and ideographic spaces) stripped, in which a
    mention search looks for a number's tail (SQLite's parser allows only so many nested
    calls). No index serves it there; a text with digits of another script passes besides
    (``other_script_digits``)."""
    expr = digits_only(col)
    for ch in _TEXT_SPACES:
        expr = sa.func.replace(expr, sa.literal_column(f"'{ch}'"), sa.literal_column("''"))
    return expr


def _chars_class(ranges: tuple[tuple[int, int], ...]) -> str:
    """Code point ranges as the inside of a bracket expression, in the characters themselves
    (MariaDB's PCRE2 reads UTF-8 ranges)."""
    return "".join(chr(a) if a == b else f"{chr(a)}-{chr(b)}" for a, b in ranges)


def utf8mb4(col: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """MariaDB: the text in utf8mb4 whatever the column's character set (utf8mb3, latin1), so that
    the searches' constants, which hold characters beyond those sets, compare with it instead of
    failing with "Illegal mix of collations"."""
    return sa.func.convert(col.op("USING")(sa.literal_column("utf8mb4")), type_=sa.Text())


def other_script_digits(col: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[bool]:
    """SQLite and MariaDB: free text holding a decimal digit of another script than ASCII
    (Arabic-Indic, Devanagari, fullwidth...), which the phone recognizer reads and
    ``text_digits`` does not: a mention search lets such texts through to the recognizer."""
    if dialect in ("mysql", "mariadb"):  # on utf8mb4 text (``utf8mb4``): some of them take 4 bytes
        return col.op("REGEXP")(sa.literal_column(f"'[{_chars_class(PY_OTHER_DIGITS)}]'"))
    # SQLite: the function Privet's connections have (``SQLITE_OTHER_DIGITS``), called only for a
    # text with a character beyond ASCII (more bytes than characters; a text holding a NUL is
    # let through too).
    beyond_ascii = sa.func.length(col) != sa.func.length(sa.cast(col, sa.LargeBinary))
    return sa.and_(beyond_ascii, getattr(sa.func, SQLITE_OTHER_DIGITS)(col, type_=sa.Boolean()))


def searched_text(col: sa.ColumnElement[Any], dialect: str) -> sa.ColumnElement[Any]:
    """A column as the text the searches read: cast when it is not a string type, and on MariaDB
    in utf8mb4 (``utf8mb4``)."""
    if not isinstance(col.type, sa.String | sa.Text):
        col = sa.cast(col, sa.Text)
    return utf8mb4(col) if dialect in ("mysql", "mariadb") else col


@functools.lru_cache(maxsize=4096)
def _national_digits(e164: str) -> str:
    """The number's national significant number: the digits every written form of it ends with,
    after a country code (+49 30 1212), a trunk prefix (030 1212) or both (+49 (0)30 1212)."""
    digits = "".join(c for c in e164 if c.isdigit())
    try:
        number = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return digits
    return phonenumbers.national_significant_number(number) or digits


# The most digits of a number a lookup compares (``phone_tail``): what SQLite's index of a phone
# column keeps (``reversed_tail``).
TAIL = 8


def phone_tail(e164: str, n: int = TAIL) -> str:
    """The last ``n`` digits of a number's national significant number, the part every written
    format shares: all of it for a shorter number (+49 30 1212, and Luxembourg's six digits),
    whose last digits of the E.164 form hold the country code, which a national form lacks."""
    return _national_digits(e164)[-n:]


def phone_key(col: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """A phone column's digits reversed: a number's tail becomes a prefix, which a B-tree index
    (``text_pattern_ops``) finds without scanning (PostgreSQL)."""
    return sa.func.reverse(digits_only(col))


@functools.lru_cache(maxsize=1024)
def reversed_tail(col: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """SQLite: the last ``TAIL`` digits of a phone column reversed (punctuation stripped as
    ``digits_only`` strips it; all of them for a shorter value), spelled in functions every
    SQLite has (it has no reverse()) so that an index on it needs nothing of Privet's on the
    connections that write the table: a number's tail becomes a prefix, which the index finds as
    a range (``equals_tail``, ``privet.requests.phoneindex.TailIndex``). Built once per column."""
    digits = digits_only(col)
    chars = [
        sa.func.substr(digits, sa.literal_column(str(-n)), sa.literal_column("1"), type_=sa.String())
        for n in range(1, TAIL + 1)
    ]
    expr: sa.ColumnElement[Any] = chars[0]
    for char in chars[1:]:
        expr = expr.op("||")(char)
    return expr


def equals_tail(col: sa.ColumnElement[Any], n: int, prefix: str = "") -> sa.ColumnElement[bool]:
    """SQLite: the rows whose number may be one of ``n`` identities' (``phone_lo_<i>`` and
    ``phone_hi_<i>``, ``identity_params``), one range of ``reversed_tail`` each: the rows whose
    digits end with the number's tail, the rows ``equals_bound`` finds by reading every value."""
    key = reversed_tail(col)
    return sa.or_(
        *(sa.and_(key >= _bp(f"{prefix}phone_lo_{i}"), key < _bp(f"{prefix}phone_hi_{i}")) for i in range(n))
    )


def equals_many_tail(col: sa.ColumnElement[Any], values: Iterable[str]) -> sa.ColumnElement[bool]:
    """SQLite: ``equals_tail`` for many numbers at once, the values bound (a batch's value-linked
    read): a full tail is one value of the index, the tail of a shorter number a range of it."""
    lows = sorted({t[::-1] for v in values if (t := phone_tail(v))})
    key = reversed_tail(col)
    full = [low for low in lows if len(low) == TAIL]
    conds: list[sa.ColumnElement[bool]] = [key.in_(full)] if full else []
    conds += [sa.and_(key >= low, key < _after_prefix(low)) for low in lows if len(low) < TAIL]
    return sa.or_(sa.false(), *conds)


def equals_identity(
    col: sa.ColumnElement[Any], kind: str, values: Iterable[str], dialect: str = "default"
) -> sa.ColumnElement[bool]:
    """A prefilter for stored values equal to one of the identities (phones are re-checked in Python),
    with the values bound: ``equals_bound`` for a one-off statement."""
    idents = {Identity(kind, v) for v in values}
    return equals_bound(col, kind, len(idents), dialect).params(identity_params(idents))


def equals_many(
    col: sa.ColumnElement[Any], kind: str, values: Iterable[str], dialect: str
) -> sa.ColumnElement[bool]:
    """SQLite and MariaDB: ``equals_identity`` for many identities at once (a batch's group), each
    row's value looked at once: a phone's stripped digits are cut to the length of the tails
    and compared with all of them in one ``IN`` (the same rows as their ``LIKE '%tail'`` one by
    one, which cost a comparison per identity and row: 1.8 s for 200 people's calls on MariaDB)."""
    if kind != "phone":
        return equals_identity(col, kind, values, dialect)
    by_length: dict[int, set[str]] = {}
    for v in values:
        if tail := phone_tail(v):
            by_length.setdefault(len(tail), set()).add(tail)
    digits = digits_only(col)
    return sa.or_(
        sa.false(),
        *(sa.func.substr(digits, -n).in_(sorted(tails)) for n, tails in sorted(by_length.items())),
    )


def value_matches(kind: str, stored: Any, values: set[str], region: str) -> bool:
    """The exact check after a prefilter: normalized stored value is one of the identities."""
    if stored is None:
        return False
    if kind == "email":
        return str(stored).strip().lower() in values
    if kind == "phone":
        return try_normalize_phone(stored, region) in values
    return str(stored) in values


# Statements a request runs for every person have the same shape for people with the same number
# of identities of each kind. Built once with named parameters and reused, they skip SQLAlchemy's
# construction and cache-key walk (most of the Python cost of a large UNION or a REPLACE chain).

# The letters Python's ``re`` treats as the same in a search that ignores case, beyond their
# lower case (its ``_casefix`` table): each is folded to the first of its set, so that two
# words equal to each other in such a search have the same folded form (``fold``). U+0345
# (combining ypogegrammeni, not a word character, which ``re`` takes for an iota) is left out:
# a text or name holding it is compared in full (``ODD_IOTA``).
_SAME_LETTERS = (
    "\u0069\u0131",  # i ı
    "\u0073\u017f",  # s ſ
    "\u00b5\u03bc",  # µ μ
    "\u0390\u1fd3",  # ΐ ΐ
    "\u03b0\u1fe3",  # ΰ ΰ
    "\u03b2\u03d0",  # β ϐ
    "\u03b5\u03f5",  # ε ϵ
    "\u03b8\u03d1",  # θ ϑ
    "\u03b9\u1fbe",  # ι ι
    "\u03ba\u03f0",  # κ ϰ
    "\u03c0\u03d6",  # π ϖ
    "\u03c1\u03f1",  # ρ ϱ
    "\u03c2\u03c3",  # ς σ
    "\u03c6\u03d5",  # φ ϕ
    "\u0432\u1c80",  # в ᲀ
    "\u0434\u1c81",  # д ᲁ
    "\u043e\u1c82",  # о ᲂ
    "\u0441\u1c83",  # с ᲃ
    "\u0442\u1c84\u1c85",  # т ᲄ ᲅ
    "\u044a\u1c86",  # ъ ᲆ
    "\u0463\u1c87",  # ѣ ᲇ
    "\u1c88\ua64b",  # ᲈ ꙋ
    "\u1e61\u1e9b",  # ṡ ẛ
    "\ufb05\ufb06",  # ﬅ ﬆ
)
_FOLD = {ord(c): same[0] for same in _SAME_LETTERS for c in same[1:]}
_FOLDED = re.compile("[" + "".join(c for same in _SAME_LETTERS for c in same[1:]) + "]")
ODD_IOTA = "\u0345"


def fold(text: str) -> str:
    """The text in lower case as Python's ``re`` compares it when ignoring case, one character for
    one (its simple lower case: İ is i; and the letters ``re`` takes for one another folded
    together): two strings a case-insensitive search finds equal fold to the same string, and
    every character keeps its place and whether it is a word character."""
    low = text.replace("İ", "I").lower()
    return low.translate(_FOLD) if _FOLDED.search(low) else low


# The first letters of the sets above, and ι (which ``re`` also takes for U+0345): letters whose
# set holds characters of different lower case, which a database's lower() keeps apart.
_UNEVEN = frozenset(same[0] for same in _SAME_LETTERS) | {"\u03b9"}
_SAME_ANY = frozenset("".join(_SAME_LETTERS) + ODD_IOTA)
# The ASCII letters with a character beyond ASCII in their set (ı and İ, K the Kelvin sign,
# ſ): left as they are in an indexed search's pattern when one without them would keep no three
# characters in a row for the index to look up.
_ASCII_UNEVEN = frozenset("iks")
_OPEN_UNEVEN = str.maketrans(dict.fromkeys(_ASCII_UNEVEN, "_"))
_RUN = re.compile(r"[^%_]{3}")


def _beyond_ascii_cased(c: str) -> bool:
    """Whether ``re`` ignoring case takes another character for this one beyond ASCII."""
    return not c.isascii() and (c.lower() != c or c.upper() != c or fold(c) != c or c in _SAME_ANY)


def _unicode_unsure(c: str) -> bool:
    """Whether a database that lowers text as Python does (PostgreSQL with a Unicode LC_CTYPE)
    may leave a character ``re`` takes for this one different from its lower case (the ASCII
    letters aside: ``text_pattern``)."""
    return not c.isascii() and (len(c.lower()) != 1 or fold(c) in _UNEVEN or c == ODD_IOTA)


def text_pattern(value: str, lowering: str, indexed: bool = True) -> str:
    """A LIKE pattern for texts holding ``value`` as Python's case-blind match finds it, against
    the text as the database lowers it: ``lowering`` is ``"unicode"`` (lower() of PostgreSQL
    with a Unicode LC_CTYPE, as Python's) or ``"ascii"`` (SQLite's LIKE, which ignores the case
    of ASCII letters only, or MariaDB's lower(), which leaves several hundred capitals beyond
    ASCII as they are). A character the database may not match with every character ``re``
    takes for it is any one character (``_``), and so is a backslash (PostgreSQL's LIKE escape).
    With ``indexed``, the ASCII letters i, k and s stay as they are where a trigram index needs
    them: on PostgreSQL always (its lower() makes İ and K i and k; a text writing ı or ſ for them
    is missed, and leaving the most common letters open would cost the index its selectivity),
    elsewhere where the pattern would otherwise hold no three characters in a row."""
    if value.isascii():  # no character beyond ASCII to be unsure of: the common case, at once
        kept = value.lower().replace("\\", "_")
    else:
        unsure = _unicode_unsure if lowering == "unicode" else _beyond_ascii_cased
        kept = "".join("_" if c == "\\" or unsure(c) else c.lower() for c in value)
    if indexed and lowering == "unicode":
        return f"%{kept}%"
    strict = kept.translate(_OPEN_UNEVEN)
    if indexed and not _RUN.search(strict):
        return f"%{kept}%"
    return f"%{strict}%"


# Email addresses whose part before the @ alone is looked up in a search index (``email_key``):
# at least this long and holding a dot, digit, underscore, hyphen or plus, as people's own
# addresses do (anna.schmidt, jk1987) and role addresses (info, support, contact) do not.
_OWN_LOCAL = re.compile(r"^(?=.{6})[^@]*[-.0-9_+][^@]*$")


def email_key(value: str, pattern: str) -> str:
    """The part of an email address's search pattern (``text_pattern``) that a search index looks
    up, the whole pattern checked on the rows it gives: every text holding the address holds the
    part, so the rows found are the same. An index of trigrams reads the list of every trigram
    it looks up, and the trigrams of a common domain (example.com, gmail.com) are in a large
    share of the texts: the part is the address up to its @ where that is a person's own
    (``_OWN_LOCAL``), else up to the end of the domain's first label (a role address such as
    info@ is in many texts). The whole pattern where the address is not plain ASCII (its
    pattern need not follow it character by character) or the part would keep no three
    characters in a row for the index."""
    local, at, domain = value.partition("@")
    if not at or not value.isascii() or len(pattern) != len(value) + 2:
        return pattern
    if _OWN_LOCAL.match(local):
        end = len(local) + 1
    elif "." in domain:
        end = len(local) + 1 + domain.index(".")
    else:
        return pattern
    key = f"{pattern[: 1 + end]}%"
    return key if _RUN.search(key) else pattern


Shape = tuple[tuple[str, int], ...]


def identity_shape(identities: Iterable[Identity]) -> Shape:
    """How many identities of each kind: the key under which a bound statement is reused."""
    counts: dict[str, int] = {}
    for i in identities:
        counts[i.kind] = counts.get(i.kind, 0) + 1
    return tuple(sorted(counts.items()))


def identity_params(identities: Iterable[Identity], prefix: str = "") -> dict[str, str]:
    """The values for the named parameters of ``equals_bound`` and ``contains_bound`` (names
    start with ``prefix`` when several people's conditions share a statement)."""
    by_kind: dict[str, list[str]] = {}
    for i in identities:
        by_kind.setdefault(i.kind, []).append(i.value)
    params: dict[str, str] = {}
    for kind, values in by_kind.items():
        for n, v in enumerate(sorted(values)):
            params[f"{prefix}{kind}_{n}"] = v
            if kind in ("email", "name"):
                # The patterns of free text holding the value (``contains_bound``): PostgreSQL's
                # (trigram index), a SQLite search index's, and a search reading the column.
                params[f"{prefix}{kind}_in_{n}"] = text_pattern(v, "unicode")
                params[f"{prefix}{kind}_like_{n}"] = text_pattern(v, "ascii")
                if kind == "email":
                    # What the search index looks up; the pattern above is checked on its rows.
                    params[f"{prefix}email_key_in_{n}"] = email_key(v, params[f"{prefix}email_in_{n}"])
                    params[f"{prefix}email_key_like_{n}"] = email_key(v, params[f"{prefix}email_like_{n}"])
                params[f"{prefix}{kind}_scan_{n}"] = text_pattern(v, "ascii", indexed=False)
            if kind == "phone":
                end, mentioned = phone_tail(v), phone_tail(v, MENTION_TAIL)
                low = end[::-1]
                params[f"{prefix}phone_lo_{n}"], params[f"{prefix}phone_hi_{n}"] = low, _after_prefix(low)
                params[f"{prefix}phone_end_{n}"] = f"%{end}"
                params[f"{prefix}phone_end_seq_{n}"] = _in_order(end)
                params[f"{prefix}phone_in_{n}"] = f"%{mentioned}%"
                params[f"{prefix}phone_seq_{n}"] = _in_order(mentioned)
                params[f"{prefix}phone_tail_{n}"] = phone_tail_query(v)
                # SQLite's search index of numbers (``privet.requests.textindex``): the tail as a phrase.
                params[f"{prefix}phone_q_{n}"] = f'd : "{mentioned}"'
    return params


def phone_tail_query(e164: str) -> str:
    """PostgreSQL: the tsquery that finds, in ``phone_tokens``, the texts that may mention the
    number: its tail's token, or a text the index could not read for sure (one lookup each); a
    number shorter than a token is the start of the tokens that end with it."""
    mentioned = phone_tail(e164, MENTION_TAIL)
    token = mentioned[::-1] if len(mentioned) == MENTION_TAIL else f"{mentioned[::-1]}:*"
    return f"{token} | {UNSURE}"


def _in_order(digits: str) -> str:
    """A LIKE pattern for text holding these digits in this order, anything between them: what
    any text has whose punctuation, stripped, leaves them side by side."""
    return f"%{'%'.join(digits)}%"


def _after_prefix(low: str) -> str:
    """The first string after every string that starts with ``low`` (a reversed tail of digits):
    with ``low``, the bounds of a range a B-tree finds (``~>=~ low AND ~<~ this``); empty for an
    empty tail, a range that holds nothing."""
    return low[:-1] + chr(ord(low[-1]) + 1) if low else ""


def search_options(people: Iterable[Iterable[Identity]]) -> dict[str, bool]:
    """How text searches for these people run (``SqlStore.fetch_many``'s keywords): planned once
    per connection where every one of them allows it (``plannable_once``), else for their values."""
    once = all(plannable_once(ids) for ids in people)
    return {"large": not once, "plan_once": once}


def plannable_once(identities: Iterable[Identity]) -> bool:
    """Whether a text search for these identities is an index lookup whatever their values, so
    that one plan serves every run (``SqlStore.fetch_many(plan_once=True)``): a name or address
    shorter than a trigram gives the trigram index nothing to look up, and a plan for its value
    (a scan) costs less than reading the whole index."""
    return all(len(i.value.strip()) >= 3 for i in identities if i.kind in ("email", "name"))


def _bp(name: str) -> sa.BindParameter[str]:
    return sa.bindparam(name, type_=sa.String(), required=True)


def _digits_like(
    col: sa.ColumnElement[Any], stripped: sa.ColumnElement[Any], in_order: str, pattern: str
) -> sa.ColumnElement[bool]:
    """SQLite and MariaDB: a number's digits in a value, looked for in order anywhere in it first
    (parameter ``in_order``, a plain LIKE at a few percent of the cost, ``_in_order``): only the
    values that pass it have their punctuation stripped (``stripped``) and are compared with
    ``pattern``."""
    return sa.and_(col.like(_bp(in_order)), stripped.like(_bp(pattern)))


def equals_bound(
    col: sa.ColumnElement[Any], kind: str, n: int, dialect: str = "default"
) -> sa.ColumnElement[bool]:
    """A prefilter for stored values equal to one of ``n`` identities of the kind, as named parameters
    (``identity_params``); phones are re-checked in Python. On PostgreSQL a phone is matched by the
    prefix of its reversed digits, as a range (indexable in a plan made without the values);
    elsewhere by the tail of its digits."""
    if kind == "email":
        lowered = sa.func.lower(col).in_([_bp(f"email_{i}") for i in range(n)])
        if isinstance(col, sa.Column) and col.name in col.table.info.get(CASELESS, ()):
            # MariaDB, a column compared ignoring case: looked up in its index, then lowered.
            return sa.and_(col.in_([_bp(f"email_{i}") for i in range(n)]), lowered)
        return lowered
    if kind == "phone" and dialect == "postgresql":
        key = phone_key(col)
        return sa.or_(
            *(
                sa.and_(key.op("~>=~")(_bp(f"phone_lo_{i}")), key.op("~<~")(_bp(f"phone_hi_{i}")))
                for i in range(n)
            )
        )
    if kind == "phone":
        return sa.or_(
            *(_digits_like(col, digits_only(col), f"phone_end_seq_{i}", f"phone_end_{i}") for i in range(n))
        )
    return sa.cast(col, sa.String(200)).in_([_bp(f"{kind}_{i}") for i in range(n)])


def contains_bound(
    col: sa.ColumnElement[Any],
    kind: str,
    n: int,
    prefix: str = "",
    dialect: str = "default",
) -> sa.ColumnElement[bool]:
    """A prefilter for free text that mentions one of ``n`` identities of the kind (named parameters).
    Phones: on PostgreSQL an exact lookup of their tails in ``phone_tokens`` (and of the texts
    it could not read for sure), elsewhere a search for the tail in the text's digits (and the
    texts with digits of another script)."""
    if kind == "phone" and dialect == "postgresql":
        # Index conditions only: a filter beside them would compute phone_tokens for every row found.
        tokens = phone_tokens(col)
        return sa.or_(
            *(tokens.bool_op("@@")(sa.cast(_bp(f"{prefix}phone_tail_{i}"), TSQUERY)) for i in range(n))
        )
    if kind == "phone":
        return sa.or_(
            *(
                _digits_like(col, text_digits(col), f"{prefix}phone_seq_{i}", f"{prefix}phone_in_{i}")
                for i in range(n)
            ),
            other_script_digits(col, dialect),
        )
    # SQLite's LIKE ignores case as its lower() folds it (ASCII letters): there the text is
    # compared as it is, without a lowered copy of every row.
    text = col if dialect == "sqlite" else sa.func.lower(col)
    if kind == "email" and dialect == "postgresql":
        # The trigram index looks up the address's key, the rows it gives are checked whole (``email_key``).
        return sa.or_(
            *(
                sa.and_(
                    text.like(_bp(f"{prefix}email_key_in_{i}")),
                    checked(text).like(_bp(f"{prefix}email_in_{i}")),
                )
                for i in range(n)
            )
        )
    pattern = "in" if dialect == "postgresql" else "scan"
    return sa.or_(*(text.like(_bp(f"{prefix}{kind}_{pattern}_{i}")) for i in range(n)))


def checked(text: sa.ColumnElement[Any]) -> sa.ColumnElement[Any]:
    """The text as a condition on it is checked on the rows an index gave for another condition,
    never looked up in the index itself: an expression no index is built on (``email_key``; a
    trigram index ANDs every condition on its expression into one lookup)."""
    return text.concat(sa.literal_column("''", sa.String()))


@functools.lru_cache(maxsize=4096)
def mention_filter_bound(
    table: sa.Table, col: str, shape: Shape, prefix: str = "", dialect: str = "default"
) -> sa.ColumnElement[bool] | None:
    """A SQL prefilter for free text that may mention identities of the given shape (built once per
    table, column and shape; values come from ``identity_params``)."""
    counts = dict(shape)
    column = searched_text(table.c[col], dialect)
    conds = [
        contains_bound(column, kind, counts[kind], prefix, dialect)
        for kind in ("email", "phone", "name")
        if counts.get(kind)
    ]
    return sa.or_(*conds) if conds else None


def equals_many_pg(table: sa.Table, col: str, kind: str, n: int = 0) -> sa.Select[Any]:
    """PostgreSQL: the rows whose stored value may equal one of many identities of the kind, the
    identities in one array parameter (``many_params``), so that the statement's text is the
    same for any number of people and every identity is an index lookup (parameters named with
    ``n``, so that several columns' lookups share a statement). Phones: a join of the
    reversed tails with the table, one range scan per tail (``phone_key``), re-checked in Python."""
    column = table.c[col]
    if kind == "phone":
        tails = (
            sa.func.unnest(
                sa.bindparam(f"privet_lo_{n}", type_=ARRAY(sa.Text())),
                sa.bindparam(f"privet_hi_{n}", type_=ARRAY(sa.Text())),
            )
            .table_valued("lo", "hi")
            .render_derived(name="privet_tails")
        )
        key = phone_key(column)
        joined = tails.join(table, sa.and_(key.op("~>=~")(tails.c.lo), key.op("~<~")(tails.c.hi)))
        return sa.select(table).select_from(joined)
    values = sa.bindparam(f"privet_values_{n}", type_=ARRAY(sa.Text()))
    stored = sa.func.lower(column) if kind == "email" else sa.cast(column, sa.Text)
    return sa.select(table).where(stored == sa.any_(values))


def many_params(kind: str, values: Iterable[str], n: int = 0) -> dict[str, list[str]]:
    """The parameters of ``equals_many_pg`` for these identities."""
    if kind == "phone":
        low = sorted({t[::-1] for v in values if (t := phone_tail(v))})
        return {f"privet_lo_{n}": low, f"privet_hi_{n}": [_after_prefix(t) for t in low]}
    return {f"privet_values_{n}": sorted({v.lower() if kind == "email" else v for v in values})}
