"""Reloads a NiftyTS checkpoint in PyTorch with plain file parsing (no NiftyTS code) and runs MeshNet on it.

Usage: dsl_torch_roundtrip.py CHECKPOINT INPUT OUT_JSON
CHECKPOINT holds MeshNet/conv_<i>_relu/conv_/{w,b} and MeshNet/conv_output/conv_/{w,b} (TensorFlow layout
[kd, kh, kw, in, out]); INPUT holds "input" as [1, D, H, W, C]. Writes {"first_conv": [...], "logits": [...]} in
NDHWC order, float64 computation.
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {"F32": "<f4", "F64": "<f8", "I32": "<i4"}


def read_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    base = 8 + n
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        begin, end = spec["data_offsets"]
        out[name] = np.frombuffer(data[base + begin:base + end], dtype=DTYPES[spec["dtype"]]).reshape(spec["shape"])
    return out, header.get("__metadata__", {})


weights, metadata = read_safetensors(sys.argv[1])
x = read_safetensors(sys.argv[2])[0]["input"].astype(np.float64)
t = torch.tensor(x.transpose(0, 4, 1, 2, 3))
dilations = [1, 2, 4, 8, 16, 8, 4, 2, 1]
first = None
for i, d in enumerate(dilations):
    w = torch.tensor(weights[f"MeshNet/conv_{i}_relu/conv_/w"].astype(np.float64).transpose(4, 3, 0, 1, 2))
    b = torch.tensor(weights[f"MeshNet/conv_{i}_relu/conv_/b"].astype(np.float64))
    t = F.relu(F.conv3d(t, w, b, padding=d, dilation=d))
    if first is None:
        first = t
w = torch.tensor(weights["MeshNet/conv_output/conv_/w"].astype(np.float64).transpose(4, 3, 0, 1, 2))
b = torch.tensor(weights["MeshNet/conv_output/conv_/b"].astype(np.float64))
logits = F.conv3d(t, w, b)
with open(sys.argv[3], "w") as f:
    json.dump({
        "metadata": metadata,
        "first_conv": first.numpy().transpose(0, 2, 3, 4, 1).ravel().tolist(),
        "logits": logits.numpy().transpose(0, 2, 3, 4, 1).ravel().tolist(),
    }, f)
