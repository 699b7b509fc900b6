"""TorchEmbedder: all-MiniLM-L6-v2 through PyTorch, fp32 sentence-transformers on the CPU (the
baseline) and our own fp16 pipeline on CUDA.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from paperfeed.search.model_files import (
    MODEL_ID,
    Device,
    ModelFiles,
    Precision,
    Progress,
    Vectors,
    weights_digest,
)
from paperfeed.search.tokenizer_pool import Tokens, cpu_count, sorted_batches


class TorchEmbedder:
    """The same model through PyTorch: fp32 sentence-transformers on the CPU (the baseline), fp16
    on CUDA through our own pipeline.

    On CUDA, `encode()` leaves the GPU idle while it tokenizes; here tokenization runs a chunk
    ahead on a thread (`Tokens`), batches are sorted by length, and pooling happens on the GPU.
    """

    model_id = MODEL_ID

    def __init__(
        self,
        *,
        device: Device = "cpu",
        precision: Precision | None = None,
        model_dir: Path | None = None,
        pipeline: bool | None = None,
        tokenizer_processes: int | None = None,
    ) -> None:
        self.precision: Precision = precision or ("fp16" if device == "cuda" else "fp32")
        if self.precision == "int8":
            raise ValueError("TorchEmbedder runs fp32 or fp16; int8 is OnnxEmbedder's")
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        # torch is optional and slow to import: only a TorchEmbedder loads it.
        from sentence_transformers import SentenceTransformer

        files = ModelFiles.packaged(model_dir)
        self.device = device
        self.dim = files.dim
        self.revision = f"{weights_digest(files.weights, cache_dir=None)}-torch-{self.precision}"
        self._model = SentenceTransformer(str(files.path), device=device, local_files_only=True)
        if self.precision == "fp16":  # pragma: no cover - for CUDA
            self._model.half()
        self._tokens = Tokens(files)
        # The pipeline is the CUDA path; the CPU keeps plain encode() as the baseline, unless a
        # test asks for the pipeline to check it against encode().
        self._pipeline = device == "cuda" if pipeline is None else pipeline
        # Measured on an H200 with 16 cores: one tokenizing process (all cores through its
        # thread pool) reached 14k texts/s, less than the GPU embeds; worker processes lift it.
        self.tokenizer_processes = (
            tokenizer_processes
            if tokenizer_processes is not None
            else (max(cpu_count() - 2, 0) if device == "cuda" else 0)
        )

    def embed(
        self, texts: Sequence[str], *, batch_size: int = 64, progress: Progress | None = None
    ) -> Vectors:
        """Embed `texts` in order; `progress` is called every 16 batches (every chunk on CUDA)."""
        if self._pipeline:
            return self._embed_pipelined(texts, batch_size=batch_size, progress=progress)
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        step = batch_size * 16
        for start in range(0, len(texts), step):
            part = list(texts[start : start + step])
            vectors = self._model.encode(
                part, batch_size=batch_size, normalize_embeddings=True, convert_to_numpy=True
            )
            out[start : start + len(part)] = vectors
            if progress is not None:
                progress(start + len(part))
        return out

    def _embed_pipelined(
        self, texts: Sequence[str], *, batch_size: int, progress: Progress | None
    ) -> Vectors:
        """Keep the GPU busy: the host never waits for it inside a chunk.

        A copy from pageable host memory waits for the GPU's queue to drain, so each chunk's
        token ids go over once, pinned, and the batches are cut out of them on the GPU; the
        vectors come back through pinned memory, collected when their event has fired.
        """
        import torch  # optional: loaded only by TorchEmbedder

        encoder: Any = self._model[0].auto_model  # the transformers BertModel inside
        device = torch.device(self.device)
        cuda = device.type == "cuda"
        out = np.empty((len(texts), self.dim), dtype=np.float32)
        in_flight: deque[tuple[int, npt.NDArray[np.intp], Any, Any]] = deque()
        done = 0

        def to_device(array: npt.NDArray[Any]) -> Any:
            tensor = torch.from_numpy(array)
            return tensor.pin_memory().to(device, non_blocking=True) if cuda else tensor

        def collect(wait: bool) -> None:
            nonlocal done
            while in_flight and (wait or in_flight[0][3] is None or in_flight[0][3].query()):
                start, order, host, event = in_flight.popleft()
                if event is not None:
                    event.synchronize()
                out[start + order] = host.numpy()
                done += len(order)
                if progress is not None:
                    progress(done)

        chunks = (
            self._tokens.process_chunks(
                texts, size=max(batch_size * 8, 16), workers=self.tokenizer_processes
            )
            if self.tokenizer_processes > 1 and len(texts) > batch_size * 8
            # The tokenizer spreads each chunk over all cores (GIL released) while the GPU works.
            else self._tokens.chunks(texts, size=max(batch_size * 16, 512))
        )
        with torch.inference_mode():
            for chunk in chunks:
                lengths = np.fromiter((len(ids) for ids in chunk.ids), dtype=np.int64)
                batches = list(sorted_batches(lengths, batch_size=batch_size, max_tokens=None))
                order = np.concatenate(batches)
                offsets = np.zeros(len(lengths), dtype=np.int64)
                np.cumsum(lengths[:-1], out=offsets[1:])
                flat = to_device(np.concatenate(chunk.ids).astype(np.int64))
                starts = to_device(offsets[order])
                sizes = to_device(lengths[order])
                pooled = []
                first = 0
                for rows in batches:
                    width = int(lengths[rows[-1]])
                    last = first + len(rows)
                    positions = torch.arange(width, device=device)
                    mask = positions[None, :] < sizes[first:last, None]
                    index = (starts[first:last, None] + positions[None, :]).clamp(
                        max=flat.shape[0] - 1
                    )
                    ids = torch.where(mask, flat[index], 0)
                    hidden = encoder(input_ids=ids, attention_mask=mask.long()).last_hidden_state
                    weights = mask.unsqueeze(-1).float()
                    sums = (hidden.float() * weights).sum(1)
                    pooled.append(sums / weights.sum(1).clamp(min=1.0))
                    first = last
                vectors = torch.nn.functional.normalize(torch.cat(pooled), dim=1)
                if cuda:
                    host = torch.empty(vectors.shape, dtype=torch.float32, pin_memory=True)
                    host.copy_(vectors, non_blocking=True)
                    event = torch.cuda.Event()  # type: ignore[no-untyped-call]
                    event.record()
                    in_flight.append((chunk.start, order, host, event))
                else:
                    in_flight.append((chunk.start, order, vectors, None))
                collect(wait=False)
            collect(wait=True)
        return out
