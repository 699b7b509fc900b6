"""OnnxEmbedder: all-MiniLM-L6-v2 on ONNX Runtime, int8 on the CPU (the default) or fp16 on CUDA,
with the model built once into `cache_dir`; torch is never imported.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from paperfeed.search.model_files import (
    MODEL_ID,
    Device,
    ModelFiles,
    Precision,
    Progress,
    Vectors,
    atomic_path,
    file_lock,
    weights_digest,
)
from paperfeed.search.onnx_graph import EXPORT_VERSION, export_model
from paperfeed.search.tokenizer_pool import Tokens, cpu_count, sorted_batches


class OnnxEmbedder:
    """all-MiniLM-L6-v2 on ONNX Runtime: int8 on the CPU (default), fp16 on CUDA.

    Torch is never imported: the graph is built from the safetensors weights with `onnx`.
    """

    model_id = MODEL_ID

    def __init__(
        self,
        *,
        cache_dir: Path,
        device: Device = "cpu",
        precision: Precision | None = None,
        threads: int | None = None,
        max_batch_tokens: int | None = None,
        model_dir: Path | None = None,
    ) -> None:
        self.device = device
        # Measured on 2 cores: batches of 2,048 tokens (8 texts of 256) run as fast as 64 texts
        # and keep the peak RSS near 260 MB instead of 760 MB.
        self.max_batch_tokens = max_batch_tokens or (None if device == "cuda" else 2048)
        self.precision: Precision = precision or ("fp16" if device == "cuda" else "int8")
        if device == "cuda" and self.precision == "int8":
            raise ValueError("int8 runs on the CPU only; use fp16 or fp32 with device='cuda'")
        if device == "cuda":
            # onnxruntime loads when a model runs, not when search is imported.
            import onnxruntime

            if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
                raise RuntimeError(
                    "CUDA requested but not available: install onnxruntime-gpu and a CUDA driver"
                )
        self.cache_dir = cache_dir
        self.threads = threads or cpu_count()
        self._files = ModelFiles.packaged(model_dir)
        self._tokens = Tokens(self._files)
        self.dim = self._files.dim
        digest = weights_digest(self._files.weights, cache_dir=cache_dir)
        self.revision = f"{digest}-onnx{EXPORT_VERSION}-{self.precision}"
        self.model_path = cache_dir / f"all-MiniLM-L6-v2-{self.revision}.onnx"

    def prepare(self) -> Path:
        """Build the ONNX model into the cache unless it is there already; return its path."""
        if self.model_path.exists():
            return self.model_path
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with file_lock(self.model_path.with_suffix(".lock")):
            if not self.model_path.exists():  # another process may have built it meanwhile
                with atomic_path(self.model_path) as tmp:
                    export_model(self._files, precision=self.precision, target=tmp)
        return self.model_path

    @cached_property
    def _session(self) -> Any:
        import onnxruntime  # loaded with the first embedding, not at import

        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = self.threads
        # Idle threads sleep instead of spinning: on a busy 2-core machine spinning cost 30 %
        # of the rate (28 vs 41 abstracts/s), and the web server shares these cores.
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        providers = ["CUDAExecutionProvider"] if self.device == "cuda" else ["CPUExecutionProvider"]
        session = onnxruntime.InferenceSession(
            str(self.prepare()), sess_options=options, providers=providers
        )
        if providers[0] not in session.get_providers():  # pragma: no cover - needs a GPU
            # ONNX Runtime falls back to the CPU silently when the CUDA provider fails to load.
            raise RuntimeError(f"CUDA requested but not available: {providers[0]} did not load")
        return session

    def embed(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> Vectors:
        """Embed `texts` in batches of similar length; rows come back in input order.

        `batch_size` is an upper bound: a batch also holds at most `max_batch_tokens` tokens.
        """
        if batch_size < 1:
            raise ValueError(f"batch_size must be at least 1, not {batch_size}")
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        session = self._session
        done = 0
        # Chunks bound the tokenizer's memory (~50 MB per 512 abstracts) and are long enough
        # for length-sorted batches to carry little padding.
        for chunk in self._tokens.chunks(texts, size=max(batch_size * 8, 512)):
            lengths = np.fromiter((len(ids) for ids in chunk.ids), dtype=np.int64)
            for rows in sorted_batches(
                lengths, batch_size=batch_size, max_tokens=self.max_batch_tokens
            ):
                input_ids, mask = self._tokens.padded(chunk, rows, lengths)
                (vectors,) = session.run(
                    ["embeddings"], {"input_ids": input_ids, "attention_mask": mask}
                )
                out[chunk.start + rows] = vectors
                done += len(rows)
                if progress is not None:
                    progress(done)
        return out
