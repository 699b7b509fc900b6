"""FakeEmbedder: deterministic vectors without a model, for tests of search that need speed."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Sequence

import numpy as np
import numpy.typing as npt

_WORD = re.compile(r"\w+")


class FakeEmbedder:
    """Hash each lower-cased word into one of `dim` buckets, count, and L2-normalise.

    Texts that share words get a positive cosine, so ranking tests still mean something.
    `fail=True` makes `embed` raise, to test that keyword search survives a broken embedder.
    """

    model_id = "fake/hashed-bag-of-words"
    revision = "1"

    def __init__(self, *, dim: int = 64, fail: bool = False) -> None:
        self.dim = dim
        self.fail = fail
        self.calls: list[list[str]] = []

    def _bucket(self, word: str) -> int:
        digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
        return int.from_bytes(digest, "little") % self.dim

    def embed(
        self,
        texts: Sequence[str],
        *,
        batch_size: int = 64,
        progress: Callable[[int], None] | None = None,
    ) -> npt.NDArray[np.float32]:
        """Embed `texts` as normalised hashed word counts, one row per text, in order."""
        self.calls.append(list(texts))
        if self.fail:
            raise RuntimeError("FakeEmbedder(fail=True) refuses to embed")
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            words = _WORD.findall(text.lower()) or [""]
            for word in words:
                out[row, self._bucket(word)] += 1.0
            if progress is not None and ((row + 1) % batch_size == 0 or row + 1 == len(texts)):
                progress(row + 1)
        out /= np.linalg.norm(out, axis=1, keepdims=True).clip(min=1e-12)
        return out
