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


def main() -> None:
    here = os.path.dirname(os.path.abspath(__file__))
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "..", "..", "..", "fixtures", "mpc")
    os.makedirs(out, exist_ok=True)
    for name, states_name in [("tiny_dynamics.onnx", "states"), ("wrong_interface.onnx", "state")]:
        path = os.path.join(out, name)
        with open(path, "wb") as f:
            f.write(build(states_name).SerializeToString())
        print(f"wrote {os.path.normpath(path)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
