"""The vector index's files: written atomically with their size and CRC-32 in the manifest,
checked before they are loaded; a damaged save raises CorruptIndexError (rebuild it).
"""

from __future__ import annotations

import os
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Final

import numpy as np

FORMAT: Final = 1
MANIFEST: Final = "vectors.json"


class CorruptIndexError(RuntimeError):
    """A saved vector index cannot be used; rebuild it from the store."""


def save_npy(path: Path, array: np.ndarray) -> None:
    with open(path, "wb") as out:
        np.save(out, array, allow_pickle=False)


def write_file(path: Path, write: Callable[[Path], None]) -> dict[str, Any]:
    """Write through a temporary name, fsync, rename; return the manifest entry (size, CRC-32)."""
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        write(tmp)
        with open(tmp, "rb+") as written:
            os.fsync(written.fileno())
        entry = {"name": path.name, "bytes": tmp.stat().st_size, "crc32": crc32(tmp)}
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return entry


def checked_file(folder: Path, entry: Any) -> Path:
    """Return the path of a manifest entry after checking its size and CRC-32 (~0.3 s a GB).

    Reading the file also warms the page cache, so the first searches do not wait on the disk.
    """
    try:
        name, size, crc = str(entry["name"]), int(entry["bytes"]), int(entry["crc32"])
    except (TypeError, KeyError, ValueError) as error:
        raise corrupt(folder / MANIFEST, f"bad file entry {entry!r}") from error
    path = folder / name
    if Path(name).name != name or not path.is_file():
        raise corrupt(path, "missing")
    if path.stat().st_size != size:
        raise corrupt(path, f"{path.stat().st_size} bytes, expected {size} (truncated?)")
    if crc32(path) != crc:
        raise corrupt(path, "checksum mismatch")
    return path


def crc32(path: Path) -> int:
    crc = 0
    with open(path, "rb") as data:
        while chunk := data.read(16 << 20):
            crc = zlib.crc32(chunk, crc)
    return crc


def fsync_folder(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def corrupt(path: Path, why: str) -> CorruptIndexError:
    return CorruptIndexError(f"vector index {path}: {why}; rebuild needed (`paperfeed index`)")
