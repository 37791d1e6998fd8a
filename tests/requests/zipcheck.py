"""Checks of an export's zip that Python's reader does not make."""

from __future__ import annotations

import struct
import zipfile
from pathlib import Path


def local_headers_agree(path: Path) -> None:
    """Every entry's local header carries the CRC and sizes of the central directory (what a
    streaming reader, which never reads the directory, relies on)."""
    data = path.read_bytes()
    with zipfile.ZipFile(path) as z:
        for info in z.infolist():
            at = info.header_offset
            sig, _v, flags, _m, _t, _d, crc, csize, usize, nlen, xlen = struct.unpack(
                "<IHHHHHIIIHH", data[at : at + 30]
            )
            assert sig == 0x04034B50 and not flags & 0x08 and crc == info.CRC, info.filename
            if csize == 0xFFFFFFFF:  # zip64: the sizes are in the extra field
                extra = data[at + 30 + nlen : at + 30 + nlen + xlen]
                assert struct.unpack("<HH", extra[:4])[0] == 1
                usize, csize = struct.unpack("<QQ", extra[4:20])
            assert (usize, csize) == (info.file_size, info.compress_size), info.filename
