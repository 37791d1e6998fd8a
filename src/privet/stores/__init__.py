"""Store connectors: SQL databases and file stores named in the map."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack, contextmanager

from privet.datamap.model import DataMap
from privet.stores.files import LocalFileStore
from privet.stores.schema import ColumnInfo, ForeignKey, IndexInfo, SchemaInfo, TableInfo
from privet.stores.sql import SqlStore, make_engine, safe_url


class Stores:
    """The open stores of one map: SQL stores by name and file stores by name."""

    def __init__(self, dm: DataMap) -> None:
        self.sql: dict[str, SqlStore] = {}
        self.files: dict[str, LocalFileStore] = {}
        for name, spec in dm.stores.items():
            if spec.files is not None:
                self.files[name] = LocalFileStore(name, spec.files)
            else:
                assert spec.url is not None
                self.sql[name] = SqlStore(name, spec.url)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """One autocommit read connection per database for the block (a request's many selects)."""
        with ExitStack() as stack:
            for store in self.sql.values():
                stack.enter_context(store.pin_reader())
            yield

    def after_fork(self) -> None:
        """In a forked process: connections of its own (see ``SqlStore.after_fork``)."""
        for s in self.sql.values():
            s.after_fork()

    def close(self) -> None:
        for s in self.sql.values():
            s.dispose()

    def __enter__(self) -> Stores:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "ColumnInfo",
    "ForeignKey",
    "IndexInfo",
    "LocalFileStore",
    "SchemaInfo",
    "SqlStore",
    "Stores",
    "TableInfo",
    "make_engine",
    "safe_url",
]
