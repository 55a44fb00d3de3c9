"""Which nodes of a detect model stay float when the rest is quantized to INT8: the head's last layers and the
box/score decoding after them (one int8 scale cannot span 0-640 px and 0-1 scores), and optionally the rest of
the Detect module. Used by `models.quantize`.
"""

from __future__ import annotations

import onnx

WEIGHTED_OPS = ("Conv", "MatMul", "Gemm")


def float_head_nodes(model: onnx.ModelProto) -> list[str]:
    """The detect head's last weighted layers and every node after them (the box and score decoding).

    Walks back from the first output through non-weighted nodes; a weighted node met there is a head
    output layer. Bias-free convolutions (the DFL's fixed 0..15 projection) are walked through, and
    shape-only inputs (`Shape`) are not followed, since they carry no values into the output. Then
    everything downstream of those layers is added.
    """
    heads = _head_layers(model)
    consumers: dict[str, list[onnx.NodeProto]] = {}
    for node in model.graph.node:
        for name in node.input:
            consumers.setdefault(name, []).append(node)
    found = [n.name for n in heads]
    tensors = [out for n in heads for out in n.output]
    while tensors:
        for node in consumers.get(tensors.pop(), []):
            if node.name not in found:
                found.append(node.name)
                tensors.extend(node.output)
    return found


def _head_layers(model: onnx.ModelProto) -> list[onnx.NodeProto]:
    """The weighted layers met walking back from the first output (see `float_head_nodes`)."""
    producer = {out: node for node in model.graph.node for out in node.output}
    heads: list[onnx.NodeProto] = []
    seen: set[str] = set()
    stack = [model.graph.output[0].name]
    while stack:
        node = producer.get(stack.pop())
        if node is None or node.name in seen:
            continue
        seen.add(node.name)
        if node.op_type == "Shape":
            continue
        if node.op_type in WEIGHTED_OPS:
            heads.append(node)
            if not (node.op_type == "Conv" and len(node.input) < 3):
                continue
        stack.extend(node.input)
    return heads


def detect_module_nodes(model: onnx.ModelProto) -> list[str]:
    """`float_head_nodes` plus every other node of the same exported module (`/model.N/...`: the Detect
    head's box and class branches).

    The branches are a small share of the compute, and in float they keep the INT8 scores closer to fp32
    (measured on the fire/smoke weights: agreement on held-out FURG frames rose from 0.946/0.933 to
    0.946/0.986 recall/precision).
    """
    head = float_head_nodes(model)
    prefixes = {n.split("/")[1] for n in head if n.startswith("/") and n.count("/") >= 2}
    extra = [n.name for n in model.graph.node
             if n.name.startswith("/") and n.name.split("/")[1] in prefixes and n.name not in set(head)]
    return head + extra
