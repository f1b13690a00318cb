"""A safetensors file written by PyTorch/numpy, for NiftyTS's reader to decode exactly.

Writes JSON: {"file_base64": the whole file, "metadata": {...}, "tensors": [{"name", "dtype", "shape", "values"}]}
with tensors listed in data order. The header is built by hand the way the `safetensors` package does it (JSON
header padded with spaces to 8 bytes, little-endian data packed without gaps); the header's key order differs from
the data order (keys sorted, data not) so the reader must go by data_offsets. Names follow torch state_dict style.
"""
import base64
import json
import struct
import sys

import numpy as np
import torch

torch.manual_seed(1234)

conv = torch.nn.Conv3d(2, 3, kernel_size=(1, 2, 2))
tensors = [  # data order
    ("encoder.conv1.weight", conv.weight.detach()),  # [3, 2, 1, 2, 2] float32
    ("encoder.conv1.bias", conv.bias.detach()),
    ("head.weight_t", torch.randn(3, 4, dtype=torch.float64).t()),  # non-contiguous: written in C order
    ("step", torch.tensor(41, dtype=torch.int32)),  # scalar
    ("labels", torch.tensor([[-5, 0, 7], [32767, -32768, 1]], dtype=torch.int16)),
    ("bytes.i8", torch.tensor([-128, -1, 0, 127], dtype=torch.int8)),
    ("bytes.u8", torch.tensor([0, 1, 200, 255], dtype=torch.uint8)),
    ("mask", torch.tensor([True, False, True, True, False])),
    ("empty", torch.zeros(0, 3, dtype=torch.float32)),
    ("counts", torch.tensor([[1, -2], [2147483647, -2147483648]], dtype=torch.int32)),
]
# torch 1.13 has no uint16 tensors; numpy writes that one.
arrays = [(name, t.contiguous().numpy()) for name, t in tensors] + [
    ("histogram", np.array([0, 1, 65535, 1024], dtype=np.uint16)),
]
CODES = {np.dtype("float64"): "F64", np.dtype("float32"): "F32", np.dtype("int32"): "I32", np.dtype("int16"): "I16",
         np.dtype("int8"): "I8", np.dtype("uint8"): "U8", np.dtype("uint16"): "U16", np.dtype("bool"): "BOOL"}

header = {}
chunks = []
offset = 0
for name, array in arrays:
    data = np.ascontiguousarray(array).astype(array.dtype.newbyteorder("<")).tobytes()
    header[name] = {"dtype": CODES[array.dtype], "shape": list(array.shape), "data_offsets": [offset, offset + len(data)]}
    chunks.append(data)
    offset += len(data)
metadata = {"format": "pt", "source": "tests/reference/checkpoint_torch_written.py"}
text = json.dumps({"__metadata__": metadata, **header}, sort_keys=True, separators=(",", ":")).encode("utf-8")
text += b" " * (-len(text) % 8)
file_bytes = struct.pack("<Q", len(text)) + text + b"".join(chunks)


def plain(array):
    if array.dtype == np.bool_:
        return [bool(v) for v in array.ravel()]
    if array.dtype.kind in "iu":
        return [int(v) for v in array.ravel()]
    return [float(v) for v in array.ravel()]


out = {
    "file_base64": base64.b64encode(file_bytes).decode("ascii"),
    "metadata": metadata,
    "tensors": [{"name": n, "dtype": CODES[a.dtype], "shape": list(a.shape), "values": plain(a)} for n, a in arrays],
}
with open(sys.argv[1], "w") as f:
    json.dump(out, f, indent=1)
