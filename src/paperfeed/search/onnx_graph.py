"""The ONNX graph of all-MiniLM-L6-v2, built by hand from the safetensors weights (no torch, no
exporter), and its export to the model cache, int8-quantized for the CPU.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from paperfeed.search.model_files import ModelFiles, Precision

if TYPE_CHECKING:
    import onnx

# Bump when `build_graph` changes what it builds: the revision, and so every stored vector's
# contract, changes with it.
EXPORT_VERSION = 1
_CONTRIB_OPS = {"Attention", "SkipLayerNormalization", "BiasGelu"}


def build_graph(files: ModelFiles, *, precision: Precision) -> onnx.ModelProto:
    """Build the BERT encoder + mean pooling + L2 norm as ONNX from the safetensors weights.

    The graph uses ONNX Runtime's fused BERT operators (EmbedLayerNormalization, Attention,
    SkipLayerNormalization, BiasGelu: the ones `onnxruntime.transformers.optimizer` fuses a
    torch export into), so no exporter or torch is involved and int8 quantization finds them.
    """
    # onnx, safetensors and the quantizer load only to build a model, once per cache.
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


def export_model(files: ModelFiles, *, precision: Precision, target: Path) -> None:
    """Build the graph, quantize it for int8, and write it to `target` (a temporary path)."""
    import onnx  # heavy, and needed only to build a model

    model = build_graph(files, precision=precision)
    if precision != "int8":
        onnx.save(model, str(target))
        return
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
