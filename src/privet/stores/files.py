"""A local folder as a file store (recordings, attachments, avatars)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

from privet.errors import BadInput, StoreUnreachable


class LocalFileStore:
    """Files under one root folder; paths from the database are resolved inside it."""

    def __init__(self, name: str, root: str | Path) -> None:
        self.name = name
        self.root = Path(root).resolve()

    def check(self) -> None:
        if not self.root.is_dir():
            raise StoreUnreachable(
                f"file store '{self.name}': folder {self.root} does not exist",
                value=str(self.root),
                hint="create it or fix 'files:' of this store in the map",
            )

    def resolve(self, ref: str) -> Path:
        """The real path of a reference as stored in a row; refuses to leave the root."""
        rel = ref
        for prefix in ("file://", "local://"):
            if rel.startswith(prefix):
                rel = rel[len(prefix) :]
        candidate = Path(rel)
        if candidate.is_absolute():
            try:
                candidate = candidate.resolve().relative_to(self.root)
            except ValueError:
                # An absolute path from another host's layout: keep only the file name.
                candidate = Path(candidate.name)
        path = (self.root / candidate).resolve()
        if path != self.root and self.root not in path.parents:
            raise BadInput(
                f"file reference '{ref}' points outside file store '{self.name}'",
                value=ref,
                hint=f"file references must stay inside {self.root}",
            )
        return path

    def exists(self, ref: str) -> bool:
        return self.resolve(ref).is_file()

    def read(self, ref: str) -> bytes:
        return self.resolve(ref).read_bytes()

    def open_chunks(self, ref: str, size: int = 1 << 16) -> Iterator[bytes]:
        with self.resolve(ref).open("rb") as fh:
            while chunk := fh.read(size):
                yield chunk

    def sha256(self, ref: str) -> str:
        h = hashlib.sha256()
        for chunk in self.open_chunks(ref):
            h.update(chunk)
        return h.hexdigest()

    def delete(self, ref: str) -> bool:
        """Delete the file; False when it was already gone (deleting twice is harmless)."""
        path = self.resolve(ref)
        try:
            path.unlink()
        except FileNotFoundError:
            return False
        return True

    def write(self, ref: str, data: bytes) -> Path:
        path = self.resolve(ref)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path
