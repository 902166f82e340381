#!/usr/bin/env python3
"""Generates the mcts crate's ONNX fixture: an AlphaZero policy-value MLP for Connect Four
"exported elsewhere", with the interface `mcts::alphazero::OnnxEvaluator` expects.

Shape: 84 inputs (the crate's Connect Four encoding), hidden ReLU layers 32 and 32, a policy
head of 7 logits and a tanh value head of 1, random weights from a fixed seed.

Writes into OUT_DIR (default: <workspace>/fixtures/mcts):
- `az_mlp.onnx`: input `state` float32 [batch, 84]; outputs `policy` float32 [batch, 7] (logits)
  and `value` float32 [batch, 1] (tanh); the batch dimension is dynamic.
- `az_mlp.params.f32`: the same weights as little-endian float32 in the parameter layout of
  `mcts::alphazero::Mlp` (per dense layer, trunk then policy head then value head: the weight
  matrix [inputs x outputs] row-major, then the biases), so the tests can load them with
  `Mlp::from_params` and compare the two evaluators.

Usage: python3 make_onnx_fixture.py [OUT_DIR]
Needs the `onnx` and `numpy` packages (pip install onnx numpy).
"""
import os
import sys

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

INPUT = 84
HIDDEN = [32, 32]
ACTIONS = 7
SEED = 20261121


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "..", "fixtures", "mcts")
    os.makedirs(out, exist_ok=True)
    rng = np.random.default_rng(SEED)

    def dense(n_in: int, n_out: int):
        w = (rng.standard_normal((n_in, n_out)) / np.sqrt(n_in)).astype(np.float32)
        b = (0.1 * rng.standard_normal(n_out)).astype(np.float32)
        return w, b

    widths = [INPUT] + HIDDEN
    layers = [dense(i, o) for i, o in zip(widths[:-1], widths[1:])]
    layers += [dense(HIDDEN[-1], ACTIONS), dense(HIDDEN[-1], 1)]

    nodes, inits = [], []
    x = "state"
    for i, (w, b) in enumerate(layers[: len(HIDDEN)]):
        inits += [numpy_helper.from_array(w, f"trunk.{i}.weight"), numpy_helper.from_array(b, f"trunk.{i}.bias")]
        nodes.append(helper.make_node("MatMul", [x, f"trunk.{i}.weight"], [f"trunk.{i}.mm"]))
        nodes.append(helper.make_node("Add", [f"trunk.{i}.mm", f"trunk.{i}.bias"], [f"trunk.{i}.pre"]))
        nodes.append(helper.make_node("Relu", [f"trunk.{i}.pre"], [f"trunk.{i}.out"]))
        x = f"trunk.{i}.out"
    (wp, bp), (wv, bv) = layers[len(HIDDEN)], layers[len(HIDDEN) + 1]
    inits += [numpy_helper.from_array(wp, "policy.weight"), numpy_helper.from_array(bp, "policy.bias")]
    inits += [numpy_helper.from_array(wv, "value.weight"), numpy_helper.from_array(bv, "value.bias")]
    nodes.append(helper.make_node("MatMul", [x, "policy.weight"], ["policy.mm"]))
    nodes.append(helper.make_node("Add", ["policy.mm", "policy.bias"], ["policy"]))
    nodes.append(helper.make_node("MatMul", [x, "value.weight"], ["value.mm"]))
    nodes.append(helper.make_node("Add", ["value.mm", "value.bias"], ["value.pre"]))
    nodes.append(helper.make_node("Tanh", ["value.pre"], ["value"]))

    graph = helper.make_graph(
        nodes,
        "az_mlp",
        [helper.make_tensor_value_info("state", TensorProto.FLOAT, ["batch", INPUT])],
        [
            helper.make_tensor_value_info("policy", TensorProto.FLOAT, ["batch", ACTIONS]),
            helper.make_tensor_value_info("value", TensorProto.FLOAT, ["batch", 1]),
        ],
        inits,
    )
    model = helper.make_model(graph, producer_name="mcts-fixture-generator", opset_imports=[helper.make_opsetid("", 14)])
    model.ir_version = 7
    onnx.checker.check_model(model)
    onnx.save(model, os.path.join(out, "az_mlp.onnx"))

    flat = np.concatenate([np.concatenate([w.reshape(-1), b]) for w, b in layers]).astype("<f4")
    flat.tofile(os.path.join(out, "az_mlp.params.f32"))
    print(f"wrote {out}/az_mlp.onnx and az_mlp.params.f32 ({flat.size} parameters)")


if __name__ == "__main__":
    main()
