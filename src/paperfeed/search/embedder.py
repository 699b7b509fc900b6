"""Embedder: the protocol, the text embedded for a paper, and the embedder the hub uses.

`OnnxEmbedder` (onnx_embedder.py, int8) is the default; `TorchEmbedder` (torch_embedder.py) is the
baseline, and the CUDA fallback where onnxruntime-gpu is missing. `SentenceTransformerEmbedder`
(st_embedder.py) runs another model named by `PAPERFEED_EMBEDDING_MODEL`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

from paperfeed.search.model_files import MODEL_ID, Device, Progress, Vectors
from paperfeed.search.onnx_embedder import OnnxEmbedder
from paperfeed.search.torch_embedder import TorchEmbedder

EMBEDDING_INPUT_VERSION = 1


class Embedder(Protocol):
    """Turns texts into float32, L2-normalised vectors of `dim` numbers, one row per text."""

    model_id: str
    revision: str
    dim: int

    def embed(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> Vectors:
        """Embed `texts` in order; call `progress(n)` with the count finished after each batch."""
        ...


def embedding_text(*, title: str, abstract: str) -> str:
    """Return the text embedded for a paper (format `EMBEDDING_INPUT_VERSION`)."""
    title = " ".join(title.split())
    abstract = " ".join(abstract.split())
    if not title or not abstract:
        return title or abstract
    separator = " " if title.endswith((".", "?", "!")) else ". "
    return f"{title}{separator}{abstract}"


def is_shipped_model(model: str) -> bool:
    """True for an unset model setting and for the shipped model's names."""
    return model.strip() in ("", MODEL_ID, MODEL_ID.split("/")[1])


def default_embedder(*, cache_dir: Path, device: Device = "cpu", model: str = "") -> Embedder:
    """Return the embedder the hub uses.

    The shipped all-MiniLM-L6-v2 (`model` unset): int8 ONNX Runtime on the CPU; fp16 on CUDA
    through ONNX Runtime where `onnxruntime-gpu` is installed, else through PyTorch. Another
    `model` (a sentence-transformers name or folder): PyTorch, fp32 on the CPU, fp16 on CUDA.
    """
    if not is_shipped_model(model):
        from paperfeed.search.st_embedder import SentenceTransformerEmbedder

        return SentenceTransformerEmbedder(model.strip(), device=device)
    if device == "cuda":
        # Loaded only to choose a CUDA embedder; torch only when onnxruntime-gpu is missing.
        import onnxruntime

        if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
            import torch

            if not torch.cuda.is_available():
                raise RuntimeError(
                    "CUDA requested but not available: no CUDA device for PyTorch and no "
                    "onnxruntime-gpu"
                )
            return TorchEmbedder(device="cuda")  # pragma: no cover - needs a GPU
    return OnnxEmbedder(cache_dir=cache_dir, device=device)
