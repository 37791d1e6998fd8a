"""Which notice a person sees: by their language, else the purpose's default language.

A purpose's notices form one list in the map; each has a ``version`` and a
``language`` (``en`` unless given). Translations of one text share its version.
The notice shown to a person is the newest one in the first of their languages
the purpose has a notice in (``de-CH`` falls back to ``de``, and ``de`` also
finds a ``de-AT`` notice); when none of their languages is there, the newest one
in the purpose's default language, which is the language of its first notice.
"""

from __future__ import annotations

from collections.abc import Sequence

from privet.datamap import PurposeSpec
from privet.datamap.model import Notice

MAX_LANGUAGES = 12  # a header listing more is cut: nobody reads in thirteen languages


def tag(language: str) -> str:
    """A language tag for comparison: ``de_CH`` and ``DE-ch`` are ``de-ch``."""
    return language.strip().replace("_", "-").lower()


def parse_accept_language(header: str | None) -> list[str]:
    """The languages of an ``Accept-Language`` header, most wanted first (``*`` and ``q=0`` dropped)."""
    if not header:
        return []
    ranked: list[tuple[float, int, str]] = []
    for i, part in enumerate(header.split(",")[: MAX_LANGUAGES * 2]):
        name, _, params = part.partition(";")
        lang = tag(name)
        if not lang or lang == "*" or len(lang) > 35:
            continue
        q = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        if q > 0:
            ranked.append((-q, i, lang))
    ranked.sort()
    out: list[str] = []
    for _, _, lang in ranked:
        if lang not in out:
            out.append(lang)
    return out[:MAX_LANGUAGES]


def wanted(language: str | Sequence[str] | None) -> list[str]:
    """One language, a list of them (preferred first), or an ``Accept-Language`` value."""
    if language is None:
        return []
    if isinstance(language, str):
        return parse_accept_language(language)
    return [tag(x) for x in language if x and x.strip()]


def default_language(spec: PurposeSpec) -> str | None:
    return tag(spec.notices[0].language) if spec.notices else None


def choose(spec: PurposeSpec, language: str | Sequence[str] | None = None) -> Notice | None:
    """The notice to show for these languages (see the module's docstring); None without notices."""
    if not spec.notices:
        return None
    languages = {tag(n.language) for n in spec.notices}
    chosen: str | None = None
    for lang in wanted(language):
        if lang in languages:
            chosen = lang
            break
        primary = lang.split("-")[0]
        if primary in languages:
            chosen = primary
            break
        near = sorted(x for x in languages if x.split("-")[0] == primary)
        if near:
            chosen = near[0]
            break
    if chosen is None:
        chosen = default_language(spec)
    return next(n for n in reversed(spec.notices) if tag(n.language) == chosen)


def rank(spec: PurposeSpec, version: str | None) -> int:
    """How new a version is: the position of its first notice; -1 for none or an unknown one."""
    for i, n in enumerate(spec.notices):
        if n.version == version:
            return i
    return -1
