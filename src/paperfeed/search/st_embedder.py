"""SentenceTransformerEmbedder: any sentence-transformers model, chosen by configuration.

`PAPERFEED_EMBEDDING_MODEL` names it: a Hugging Face model name (taken from the local Hugging
Face cache, or downloaded once where the machine may reach the hub) or a local folder holding a
sentence-transformers model. It runs through PyTorch, fp32 on the CPU and fp16 on CUDA. The
shipped all-MiniLM-L6-v2 (`OnnxEmbedder`) stays the default, and the offline one.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from paperfeed.search.model_files import Device, Precision, Progress, Vectors, weights_digest

_WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


def model_folder(model: str) -> tuple[str, Path]:
    """(model id, folder) of a configured model: a local folder, or a Hugging Face name."""
    folder = Path(model).expanduser()
    if folder.is_dir():
        return f"local/{folder.resolve().name}", folder.resolve()
    from huggingface_hub import snapshot_download  # a dependency of sentence-transformers

    return model, Path(snapshot_download(repo_id=model))


def model_revision(folder: Path) -> str:
    """The first 12 hex digits of the weights' sha256 (the folder name of a hub snapshot)."""
    for name in _WEIGHT_FILES:
        if (folder / name).is_file():
            return weights_digest(folder / name, cache_dir=None)
    return folder.name


class SentenceTransformerEmbedder:
    """A sentence-transformers model by name or folder; fp32 on the CPU, fp16 on CUDA."""

    def __init__(self, model: str, *, device: Device = "cpu", precision: Precision | None = None):
        self.precision: Precision = precision or ("fp16" if device == "cuda" else "fp32")
        if self.precision == "int8":
            raise ValueError("a configured model runs fp32 or fp16; int8 is the shipped model's")
        # torch is optional and slow to import: only a configured model loads it.
        from sentence_transformers import SentenceTransformer

        self.model_id, folder = model_folder(model)
        self.revision = f"{model_revision(folder)}-st-{self.precision}"
        self.device = device
        self._model: Any = SentenceTransformer(str(folder), device=device)
        if self.precision == "fp16":  # pragma: no cover - for CUDA
            self._model.half()
        # Renamed in sentence-transformers 6 (the old name warns).
        dimension = getattr(self._model, "get_embedding_dimension", None)
        dim = (dimension or self._model.get_sentence_embedding_dimension)()
        if not dim:
            raise ValueError(f"{model}: the model does not say its embedding dimension")
        self.dim = int(dim)

    def embed(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> Vectors:
        """Embed `texts` in order, L2-normalised; `progress` is called every 16 batches."""
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        step = batch_size * 16
        for start in range(0, len(texts), step):
            part = list(texts[start : start + step])
            out[start : start + len(part)] = self._model.encode(
                part, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
            if progress is not None:
                progress(start + len(part))
        return out
