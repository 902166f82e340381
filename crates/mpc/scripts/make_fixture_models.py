#!/usr/bin/env python3
"""Generates the mpc crate's stand-in dynamics models (fixtures/mpc/*.onnx).

The stand-in has exactly the interface of the tinyphysics model:
inputs `states` float32 [b, 20, 4] (action, road-roll lateral acceleration, vEgo, aEgo) and
`tokens` int64 [b, 20] (tokenized lateral accelerations, one step behind the states);
output `output` float32 [b, 20, 1024] (logits over the 1024 bins of linspace(-5, 5, 1024)).

Its dynamics are a first-order lag, at every position p:
    mean_p = ALPHA * lat(tokens[p]) + (1 - ALPHA) * (GAIN * action_p + ROLL_GAIN * roll_p)
    logits_p[i] = -(bin_i - mean_p)^2 / (2 * SIGMA^2)
so a controller can steer it, its response is delayed like the real model's, and it is cheap.

`wrong_interface.onnx` is the same graph with its first input named `state`, for error tests.

`tiny_transformer.onnx` is a small random-weight model with the graph structure and node names of
the real tinyphysics export (a nanoGPT-style causal transformer: state Linear and token Embedding
concatenated, learned position embedding, pre-LayerNorm blocks with causal multi-head attention and
a tanh-GELU MLP, final LayerNorm, lm_head without bias), width 16, 2 heads, 2 blocks, MLP width 64,
so that the native loader (`mpc::native`) is tested against ONNX Runtime without the real model.

Usage: python3 make_fixture_models.py [OUT_DIR]   (default: <workspace>/fixtures/mpc)
Needs the `onnx` and `numpy` packages (pip install onnx numpy).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

ALPHA = 0.6
GAIN = 1.5
ROLL_GAIN = 1.0
SIGMA = 0.15
VOCAB = 1024
CONTEXT = 20


def build(states_name: str) -> onnx.ModelProto:
    bins = np.linspace(-5.0, 5.0, VOCAB).astype(np.float32)
    inits = [
        numpy_helper.from_array(bins.reshape(VOCAB, 1), "bins_col"),
        numpy_helper.from_array(bins.reshape(1, 1, VOCAB), "bins_row"),
        numpy_helper.from_array(
            np.array([[(1 - ALPHA) * GAIN], [(1 - ALPHA) * ROLL_GAIN], [0.0], [0.0]], dtype=np.float32),
            "w_states",
        ),
        numpy_helper.from_array(np.array(ALPHA, dtype=np.float32), "alpha"),
        numpy_helper.from_array(np.array(-1.0 / (2.0 * SIGMA * SIGMA), dtype=np.float32), "neg_scale"),
    ]
    nodes = [
        helper.make_node("MatMul", [states_name, "w_states"], ["drive"]),  # [b, 20, 1]
        helper.make_node("Gather", ["bins_col", "tokens"], ["prev"], axis=0),  # [b, 20, 1]
        helper.make_node("Mul", ["prev", "alpha"], ["prev_scaled"]),
        helper.make_node("Add", ["prev_scaled", "drive"], ["mean"]),  # [b, 20, 1]
        helper.make_node("Sub", ["bins_row", "mean"], ["diff"]),  # [b, 20, 1024]
        helper.make_node("Mul", ["diff", "diff"], ["sq"]),
        helper.make_node("Mul", ["sq", "neg_scale"], ["output"]),
    ]
    graph = helper.make_graph(
        nodes,
        "tiny_dynamics",
        [
            helper.make_tensor_value_info(states_name, TensorProto.FLOAT, ["b", CONTEXT, 4]),
            helper.make_tensor_value_info("tokens", TensorProto.INT64, ["b", CONTEXT]),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["b", CONTEXT, VOCAB])],
        initializer=inits,
    )
    model = helper.make_model(
        graph, producer_name="mpc-fixture-generator", opset_imports=[helper.make_opsetid("", 14)]
    )
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


T_WIDTH = 16
T_STATE_WIDTH = 8
T_HEADS = 2
T_BLOCKS = 2
T_FF = 64


def build_transformer() -> onnx.ModelProto:
    rng = np.random.RandomState(20240601)
    d, hd = T_WIDTH, T_WIDTH // T_HEADS
    inits, nodes = [], []
    anon = [540]

    def init(name, arr):
        inits.append(numpy_helper.from_array(np.asarray(arr), name))
        return name

    def weight(shape, std):
        name = f"onnx::MatMul_{anon[0]}"
        anon[0] += 1
        return init(name, (rng.randn(*shape) * std).astype(np.float32))

    def const(name, value):
        out = f"{name}_output_0"
        nodes.append(helper.make_node("Constant", [], [out], name=name, value=numpy_helper.from_array(np.asarray(value))))
        return out

    def node(op, name, inputs, n_out=1, **attrs):
        outs = [f"{name}_output_{i}" for i in range(n_out)]
        nodes.append(helper.make_node(op, inputs, outs, name=name, **attrs))
        return outs if n_out > 1 else outs[0]

    def layer_norm(prefix, x, gain_name, bias_name):
        g = init(gain_name, (1.0 + 0.1 * rng.randn(d)).astype(np.float32))
        b = init(bias_name, (0.1 * rng.randn(d)).astype(np.float32))
        mean = node("ReduceMean", f"{prefix}/ReduceMean", [x], axes=[-1])
        sub = node("Sub", f"{prefix}/Sub", [x, mean])
        pw = node("Pow", f"{prefix}/Pow", [sub, const(f"{prefix}/Constant", np.float32(2.0))])
        var = node("ReduceMean", f"{prefix}/ReduceMean_1", [pw], axes=[-1])
        add = node("Add", f"{prefix}/Add", [var, const(f"{prefix}/Constant_1", np.float32(1e-5))])
        sq = node("Sqrt", f"{prefix}/Sqrt", [add])
        div = node("Div", f"{prefix}/Div", [sub, sq])
        mul = node("Mul", f"{prefix}/Mul", [div, g])
        return node("Add", f"{prefix}/Add_1", [mul, b])

    w_state = weight((4, T_STATE_WIDTH), 0.5)
    b_state = init("transformer.wt_embedding.bias", (0.1 * rng.randn(T_STATE_WIDTH)).astype(np.float32))
    tok = init("transformer.wt2_embedding.weight", (0.5 * rng.randn(VOCAB, d - T_STATE_WIDTH)).astype(np.float32))
    wpe = init("transformer.wp_embedding.weight", (0.1 * rng.randn(CONTEXT, d)).astype(np.float32))
    mask = init("transformer.h.0.attn.bias", np.tril(np.ones((CONTEXT, CONTEXT), dtype=bool)).reshape(1, 1, CONTEXT, CONTEXT))
    for i in range(1, T_BLOCKS):
        nodes.append(helper.make_node("Identity", [mask], [f"transformer.h.{i}.attn.bias"], name=f"Identity_{i}"))
    positions = const("/Constant", np.arange(CONTEXT, dtype=np.int64))
    mm = node("MatMul", "/wt_embedding/MatMul", ["states", w_state])
    wt = node("Add", "/wt_embedding/Add", [b_state, mm])
    wt2 = node("Gather", "/wt2_embedding/Gather", [tok, "tokens"])
    wp = node("Gather", "/wp_embedding/Gather", [wpe, positions])
    cat = node("Concat", "/Concat_1", [wt, wt2], axis=-1)
    x = node("Add", "/Add", [cat, wp])
    for i in range(T_BLOCKS):
        p = f"/h.{i}"
        ln = layer_norm(f"{p}/attn/layer_norm", x, f"transformer.h.{i}.attn.layer_norm.weight", f"transformer.h.{i}.attn.layer_norm.bias")
        qkv = node("MatMul", f"{p}/attn/c_attn/MatMul", [ln, weight((d, 3 * d), 0.4)])
        q, k, v = node("Split", f"{p}/attn/Split", [qkv, const(f"{p}/attn/Constant_3", np.array([d, d, d], dtype=np.int64))], n_out=3, axis=2)
        shape = [const(f"{p}/attn/Constant_{n}", np.array([val], dtype=np.int64)) for n, val in [(10, -1), (11, CONTEXT), (5, T_HEADS), (12, hd)]]
        shape = node("Concat", f"{p}/attn/Concat", shape, axis=0)
        kr = node("Reshape", f"{p}/attn/Reshape", [k, shape])
        qr = node("Reshape", f"{p}/attn/Reshape_1", [q, shape])
        qt = node("Transpose", f"{p}/attn/Transpose", [qr], perm=[0, 2, 1, 3])
        vr = node("Reshape", f"{p}/attn/Reshape_2", [v, shape])
        vt = node("Transpose", f"{p}/attn/Transpose_1", [vr], perm=[0, 2, 1, 3])
        m = node("Gather", f"{p}/attn/Gather_3", [f"transformer.h.{i}.attn.bias", positions], axis=2)
        kt = node("Transpose", f"{p}/attn/Transpose_2", [kr], perm=[0, 2, 3, 1])
        sc = node("MatMul", f"{p}/attn/MatMul", [qt, kt])
        sc = node("Mul", f"{p}/attn/Mul", [sc, const(f"{p}/attn/Constant_8", np.float32(1.0 / np.sqrt(hd)))])
        nm = node("Not", f"{p}/attn/Not", [m])
        sc = node("Where", f"{p}/attn/Where", [nm, const(f"{p}/attn/Constant_9", np.float32(-np.inf)), sc])
        att = node("Softmax", f"{p}/attn/Softmax", [sc], axis=-1)
        y = node("MatMul", f"{p}/attn/MatMul_1", [att, vt])
        y = node("Transpose", f"{p}/attn/Transpose_3", [y], perm=[0, 2, 1, 3])
        y = node("Reshape", f"{p}/attn/Reshape_3", [y, const(f"{p}/attn/Constant_13", np.array([-1, CONTEXT, d], dtype=np.int64))])
        y = node("MatMul", f"{p}/attn/c_proj/MatMul", [y, weight((d, d), 0.3)])
        x = node("Add", f"{p}/Add", [x, y])
        ln = layer_norm(f"{p}/mlp/layer_norm", x, f"transformer.h.{i}.mlp.layer_norm.weight", f"transformer.h.{i}.mlp.layer_norm.bias")
        h = node("MatMul", f"{p}/mlp/c_fc/MatMul", [ln, weight((d, T_FF), 0.4)])
        a = f"{p}/mlp/act"
        h2 = node("Mul", f"{a}/Mul", [h, h])
        h3 = node("Mul", f"{a}/Mul_1", [h, h2])
        t = node("Mul", f"{a}/Mul_2", [const(f"{a}/Constant", np.float32(0.044715)), h3])
        t = node("Add", f"{a}/Add", [h, t])
        t = node("Mul", f"{a}/Mul_3", [const(f"{a}/Constant_1", np.float32(0.7978846)), t])
        t = node("Tanh", f"{a}/Tanh", [t])
        t = node("Add", f"{a}/Add_1", [const(f"{a}/Constant_2", np.float32(1.0)), t])
        t = node("Mul", f"{a}/Mul_4", [h, t])
        t = node("Mul", f"{a}/Mul_5", [const(f"{a}/Constant_3", np.float32(0.5)), t])
        y = node("MatMul", f"{p}/mlp/c_proj/MatMul", [t, weight((T_FF, d), 0.2)])
        x = node("Add", f"{p}/Add_1", [x, y])
    x = layer_norm("/layer_norm_f", x, "transformer.layer_norm_f.weight", "transformer.layer_norm_f.bias")
    nodes.append(helper.make_node("MatMul", [x, weight((d, VOCAB), 0.5)], ["output"], name="/lm_head/MatMul"))
    graph = helper.make_graph(
        nodes,
        "tiny_transformer",
        [
            helper.make_tensor_value_info("states", TensorProto.FLOAT, ["b", CONTEXT, 4]),
            helper.make_tensor_value_info("tokens", TensorProto.INT64, ["b", CONTEXT]),
        ],
        [helper.make_tensor_value_info("output", TensorProto.FLOAT, ["b", CONTEXT, VOCAB])],
        initializer=inits,
    )
    model = helper.make_model(
        graph, producer_name="mpc-fixture-generator", opset_imports=[helper.make_opsetid("", 14)]
    )
    model.ir_version = 7
    onnx.checker.check_model(model)
    return model


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "..", "fixtures", "mpc")
    os.makedirs(out, exist_ok=True)
    models = [
        ("tiny_dynamics.onnx", build("states")),
        ("wrong_interface.onnx", build("state")),
        ("tiny_transformer.onnx", build_transformer()),
    ]
    for name, model in models:
        path = os.path.join(out, name)
        with open(path, "wb") as f:
            f.write(model.SerializeToString())
        print(f"wrote {os.path.normpath(path)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
