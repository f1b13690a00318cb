"""Independent reader of a safetensors file, for interop tests of NiftyTS's writer.

Usage: python3 checkpoint_safetensors_check.py FILE

Parses FILE with plain Python (struct + json + numpy), checks the format rules strictly (header length, "{" start,
space padding to 8 bytes, contiguous offsets covering the data exactly, byte sizes), loads every tensor into numpy
(and into torch when importable, to show PyTorch can hold the data), and prints JSON to stdout:
{"header_length", "metadata", "tensors": [{"name", "dtype", "shape", "data_offsets", "sum", "sum_sq", "first"}],
 "torch": bool, "safetensors_package": bool}. Exits 1 with a message on any violation.
"""
import json
import struct
import sys

import numpy as np

DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4", "I16": "<i2", "I8": "i1",
          "U8": "u1", "U16": "<u2", "BOOL": "?"}


def fail(message):
    print(f"checker: {message}", file=sys.stderr)
    sys.exit(1)


def main(path):
    raw = open(path, "rb").read()
    if len(raw) < 8:
        fail("file shorter than 8 bytes")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        fail("header length past end")
    header_bytes = raw[8:8 + n]
    if n % 8 != 0:
        fail(f"header length {n} is not a multiple of 8")
    text = header_bytes.decode("utf-8")
    if not text.startswith("{"):
        fail("header does not start with {")
    stripped = text.rstrip(" ")
    header = json.loads(stripped)
    if len(text) - len(stripped) >= 8:
        fail("more than 7 bytes of padding")
    data = raw[8 + n:]
    metadata = header.pop("__metadata__", {})
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in metadata.items()):
        fail("metadata values must be strings")
    entries = sorted(header.items(), key=lambda kv: tuple(kv[1]["data_offsets"]))
    position = 0
    tensors = []
    use_torch = False
    try:
        import torch
        use_torch = True
    except ImportError:
        pass
    for name, entry in entries:
        begin, end = entry["data_offsets"]
        if begin != position:
            fail(f"tensor {name} starts at {begin}, expected {position}")
        dtype = np.dtype(DTYPES[entry["dtype"]])
        shape = entry["shape"]
        count = int(np.prod(shape, dtype=np.int64))
        if end - begin != count * dtype.itemsize:
            fail(f"tensor {name} byte size mismatch")
        array = np.frombuffer(data[begin:end], dtype=dtype).reshape(shape)
        values = array.astype(np.float64).ravel()
        if use_torch:
            # Prove torch can take the data as-is and agrees on the sum.
            # torch 1.13 has no uint16: widen that one to int32.
            t = torch.from_numpy(array.astype(np.int32) if array.dtype == np.uint16 else array.copy())
            torch_sum = float(t.double().sum()) if t.numel() else 0.0
            if abs(torch_sum - float(values.sum())) > 1e-9 * max(1.0, abs(torch_sum)):
                fail(f"torch and numpy disagree on {name}")
        tensors.append({
            "name": name,
            "dtype": entry["dtype"],
            "shape": shape,
            "data_offsets": [begin, end],
            "sum": float(values.sum()),
            "sum_sq": float((values * values).sum()),
            "first": [float(v) for v in values[:5]],
        })
        position = end
    if position != len(data):
        fail(f"data has {len(data) - position} bytes not covered by tensors")
    try:
        import safetensors.numpy  # noqa: F401  (Debian has no python3-safetensors today; used when present)
        loaded = safetensors.numpy.load(raw)
        for t in tensors:
            if float(loaded[t["name"]].astype(np.float64).sum()) != t["sum"]:
                fail(f"safetensors package disagrees on {t['name']}")
        package = True
    except ImportError:
        package = False
    print(json.dumps({"header_length": n, "metadata": metadata, "tensors": tensors, "torch": use_torch,
                      "safetensors_package": package}))


if __name__ == "__main__":
    main(sys.argv[1])
