"""Read ``privet.yaml``: expand environment variables, validate, and point at the line.

Every error names the file and line and says what to write instead.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from privet.datamap.model import DataMap, MapReferenceError
from privet.errors import MapError

_SCALARS = yaml.constructor.SafeConstructor()
_ENV = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def load_map(path: str | Path, env: Mapping[str, str] | None = None) -> DataMap:
    """Load and validate a data map file; relative file stores resolve beside it."""
    p = Path(path)
    if not p.exists():
        raise MapError(
            "the data map does not exist",
            path=str(p),
            hint="run `privet discover DB_URL --out privet.yaml`, or pass --map / set PRIVET_MAP",
        )
    try:
        text = p.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MapError(f"cannot read the data map: {exc}", path=str(p)) from exc
    dm = parse_map(text, source=str(p), env=os.environ if env is None else env)
    base = p.resolve().parent
    for store in dm.stores.values():
        if store.files is not None and not Path(store.files).is_absolute():
            store.files = str(base / store.files)
    return dm


def parse_map(text: str, *, source: str = "<map>", env: Mapping[str, str] | None = None) -> DataMap:
    """Parse map text into a validated :class:`DataMap`."""
    env = os.environ if env is None else env
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark
        raise MapError(
            f"not valid YAML: {exc.problem}",
            path=source,
            line=(mark.line + 1) if mark else None,
            hint="check indentation and quoting on that line",
        ) from exc
    if root is None:
        raise MapError(
            "the data map is empty", path=source, line=1, hint="start with 'version: 1' and 'stores:'"
        )
    if not isinstance(root, yaml.MappingNode):
        raise MapError(
            "the data map must be a mapping of keys (version, stores, subjects, tables…)",
            path=source,
            line=root.start_mark.line + 1,
        )
    data = _to_python(root, source, env)
    try:
        return DataMap.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(err["loc"])
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, MapReferenceError):
            loc, where = cause.loc, ""
        else:
            where = ".".join(str(x) for x in loc if not str(x).startswith("function-"))
        line = _line_of(root, loc)
        msg = err["msg"].removeprefix("Value error, ")
        if err["type"] == "extra_forbidden":
            msg = f"unknown key '{loc[-1]}'"
            hint = "check its spelling against the map reference in the README"
        elif err["type"] == "missing":
            msg = f"'{loc[-1]}' is required here"
            hint = None
        else:
            hint = None
        raise MapError(f"{where}: {msg}" if where else msg, path=source, line=line, hint=hint) from exc


def _to_python(node: yaml.Node, source: str, env: Mapping[str, str]) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for knode, vnode in node.value:
            key = _to_python(knode, source, env)
            if key in out:
                raise MapError(
                    f"key '{key}' appears twice",
                    path=source,
                    line=knode.start_mark.line + 1,
                    hint="merge the two entries into one",
                )
            out[key] = _to_python(vnode, source, env)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_to_python(n, source, env) for n in node.value]
    value = _SCALARS.construct_object(node, deep=True)
    if isinstance(value, str) and "${" in value:
        value = _expand(value, env, source, node.start_mark.line + 1)
    return value


def _expand(value: str, env: Mapping[str, str], source: str, line: int) -> str:
    def repl(m: re.Match[str]) -> str:
        name, default = m.group(1), m.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        raise MapError(
            f"environment variable {name} is not set",
            path=source,
            line=line,
            value=name,
            hint=f"export {name}=… or write ${{{name}:-default}}",
        )

    return _ENV.sub(repl, value)


def _line_of(root: yaml.Node, loc: tuple[Any, ...]) -> int:
    """The line of the deepest YAML node reachable along a validation error location."""
    node = root
    line = root.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            for knode, vnode in node.value:
                if knode.value == str(part) or (str(part) == "from_" and knode.value == "from"):
                    node = vnode
                    line = knode.start_mark.line + 1
                    break
            else:
                return line
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            return line
    return line
