"""A tiny tfjs layers model exercising every weight encoding tfjs defines, with expected decoded values from numpy.

Writes JSON: {"model_json": the model.json object, "shards": {file name: base64 bytes}, "tensors": [{"name",
"dtype", "shape", "values"}]}. Group 0 is split into three shards at boundaries that cut through weights, as the
tfjs converter does; group 1 is a second group. Dequantization as tfjs-core io.decodeWeights defines it:
uint8/uint16 → q · scale + min in double precision, stored as float32 (int32 weights: rounded half up, as JS
Math.round); float16 → IEEE half precision widened to float32.
"""
import base64
import json
import math
import sys

import numpy as np

rng = np.random.default_rng(7)
weights0, chunks0, expected = [], [], []


def add(group, chunks, spec, stored, values):
    group.append(spec)
    chunks.append(np.ascontiguousarray(stored).astype(stored.dtype.newbyteorder("<")).tobytes())
    kind = spec["dtype"]
    flat = np.asarray(values).ravel()
    plain = [int(v) for v in flat] if kind in ("int32", "bool") else [float(v) for v in flat]
    expected.append({"name": spec["name"], "dtype": kind, "shape": spec["shape"], "values": plain})


def affine_quantized(name, shape, qdtype, levels):
    original = rng.normal(0.0, 0.5, size=shape)
    lo, hi = float(original.min()), float(original.max())
    scale = (hi - lo) / levels
    q = np.round((original - lo) / scale).astype(qdtype)
    spec = {"name": name, "shape": list(shape), "dtype": "float32",
            "quantization": {"dtype": np.dtype(qdtype).name, "scale": scale, "min": lo}}
    add(weights0, chunks0, spec, q, (q.astype(np.float64) * scale + lo).astype(np.float32))


affine_quantized("dense/kernel", (3, 4), np.uint8, 255)
affine_quantized("dense/bias", (4,), np.uint16, 65535)
half = np.array([0.0, -0.0, 5.960464477539063e-08, 6.1e-05, 65504.0, -1.5, 0.333, 1e-3, -2.5e-6, 3.14159, 100.0,
                 -65504.0], dtype=np.float16).reshape(2, 2, 1, 3)
add(weights0, chunks0, {"name": "conv/kernel", "shape": [2, 2, 1, 3], "dtype": "float32",
                        "quantization": {"dtype": "float16"}}, half, half.astype(np.float32))
q_step = np.array([0, 17, 255], dtype=np.uint8)
step_scale, step_min = 0.37, -3.2
add(weights0, chunks0, {"name": "global_step", "shape": [3], "dtype": "int32",
                        "quantization": {"dtype": "uint8", "scale": step_scale, "min": step_min}},
    q_step, [math.floor(float(v) * step_scale + step_min + 0.5) for v in q_step])
mask = np.array([1, 0, 1, 1, 0], dtype=np.uint8)
add(weights0, chunks0, {"name": "mask", "shape": [5], "dtype": "bool"}, mask, mask)
table = np.array([[1, -2, 3], [2147483647, -2147483648, 0]], dtype=np.int32)
add(weights0, chunks0, {"name": "table", "shape": [2, 3], "dtype": "int32"}, table, table)
scalar = np.array(2.75, dtype=np.float32)
add(weights0, chunks0, {"name": "scalar", "shape": [], "dtype": "float32"}, scalar, scalar)

weights1, chunks1 = [], []
head = rng.normal(size=(2, 2)).astype(np.float32)
add(weights1, chunks1, {"name": "head/kernel", "shape": [2, 2], "dtype": "float32"}, head, head)
empty = np.zeros((0,), dtype=np.float32)
add(weights1, chunks1, {"name": "head/empty", "shape": [0], "dtype": "float32"}, empty, empty)

group0 = b"".join(chunks0)
cuts = [0, 7, 27, len(group0)]  # cuts through dense/kernel and the float16 weight
shards = {f"group1-shard{i + 1}of3.bin": group0[cuts[i]:cuts[i + 1]] for i in range(3)}
shards["group2-shard1of1.bin"] = b"".join(chunks1)

init = {"class_name": "GlorotUniform", "config": {"seed": None}}
model_json = {
    "format": "layers-model",
    "generatedBy": "tests/reference/checkpoint_tfjs_quantized.py",
    "convertedBy": None,
    "modelTopology": {"class_name": "Sequential", "keras_version": "tfjs-layers 4.22.0", "backend": "tensor_flow.js",
                      "config": {"name": "tiny", "layers": [
                          {"class_name": "Dense", "config": {"name": "dense", "units": 4, "use_bias": True,
                                                             "batch_input_shape": [None, 3], "kernel_initializer": init,
                                                             "kernel_regularizer": None}},
                          {"class_name": "Reshape", "config": {"name": "reshape", "target_shape": [2, 2, 1]}},
                          {"class_name": "Conv2D", "config": {"name": "conv", "filters": 3, "kernel_size": [2, 2],
                                                              "use_bias": False, "bias_constraint": None}},
                          {"class_name": "Dense", "config": {"name": "head", "units": 2}}]}},
    "weightsManifest": [
        {"paths": [f"group1-shard{i}of3.bin" for i in (1, 2, 3)], "weights": weights0},
        {"paths": ["group2-shard1of1.bin"], "weights": weights1},
    ],
}
out = {"model_json": model_json, "shards": {k: base64.b64encode(v).decode("ascii") for k, v in shards.items()},
       "tensors": expected}
with open(sys.argv[1], "w") as f:
    json.dump(out, f, indent=1)
