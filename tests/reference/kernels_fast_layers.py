"""Reference for the oneDNN inference layers (tests/kernels_fast_layers_test.ts): PyTorch max/average pooling,
trilinear/bilinear upsampling (align_corners=False) and transposed convolution with TensorFlow's "same"/"valid"
padding, in tfjs layouts (channels-last; transposed-conv filter [k..., out, in]). Usage: python3 kernels_fast_layers.py
OUT.json"""
import json
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F


def r(a):
    return [float(f"{v:.7g}") for v in np.asarray(a, dtype=np.float32).ravel()]


def first(x):  # channels-last -> channels-first
    return torch.tensor(np.moveaxis(x, -1, 1).copy())


def last(t):
    return np.moveaxis(t.numpy(), 1, -1)


def tf_pads(n, k, s, padding):
    if padding == "valid":
        return 0, 0
    total = max((math.ceil(n / s) - 1) * s + k - n, 0)
    return total // 2, total - total // 2


def pool(name, shape, k, s, padding, alg, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    rank = len(shape) - 2
    pads = []
    for i in reversed(range(rank)):
        pads += list(tf_pads(shape[i + 1], k, s, padding))
    xt = first(x)
    if alg == "max":
        y = F.max_pool3d(F.pad(xt, pads, value=-math.inf), k, s) if rank == 3 else F.max_pool2d(
            F.pad(xt, pads, value=-math.inf), k, s)
    else:  # average over the positions inside the input (TensorFlow's "same" excludes the padding)
        p = F.avg_pool3d if rank == 3 else F.avg_pool2d
        ones = torch.ones_like(xt[:, :1])
        y = p(F.pad(xt, pads), k, s) / p(F.pad(ones, pads), k, s)
    return {"name": name, "op": "pool", "alg": alg, "kernel": k, "stride": s, "padding": padding, "x_shape": shape,
            "y_shape": list(last(y).shape), "x": r(x), "y": r(last(y))}


def resize(name, shape, size, rng):
    x = rng.standard_normal(shape).astype(np.float32)
    mode = "trilinear" if len(size) == 3 else "bilinear"
    y = F.interpolate(first(x), size=size, mode=mode, align_corners=False)
    return {"name": name, "op": "resize", "x_shape": shape, "y_shape": list(last(y).shape), "x": r(x),
            "y": r(last(y))}


def deconv(name, shape, k, s, cout, padding, rng):
    cin = shape[-1]
    rank = len(shape) - 2
    x = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal([k] * rank + [cout, cin]) / math.sqrt(cin * k ** rank)).astype(np.float32)
    wt = torch.tensor(np.transpose(w, [rank + 1, rank] + list(range(rank))).copy())  # [in, out, k...]
    full = (F.conv_transpose3d if rank == 3 else F.conv_transpose2d)(first(x), wt, stride=s)
    # TensorFlow: output size n·s ("same") or (n−1)·s + k ("valid"); "same" crops the full result by its pads
    index = [slice(None), slice(None)]
    for n in shape[1:-1]:
        out = n * s if padding == "same" else (n - 1) * s + k
        before = max((n - 1) * s + k - out, 0) // 2
        index.append(slice(before, before + out))
    y = full[tuple(index)]
    return {"name": name, "op": "deconv", "kernel": k, "stride": s, "padding": padding, "x_shape": shape,
            "w_shape": [k] * rank + [cout, cin], "y_shape": list(last(y).shape), "x": r(x), "w": r(w),
            "y": r(last(y))}


def main(out):
    torch.set_num_threads(1)
    rng = np.random.default_rng(14)
    cases = [
        pool("max 3d k2 s2 valid", [1, 6, 8, 4, 3], 2, 2, "valid", "max", rng),
        pool("max 3d k3 s2 same (odd sizes, pads ignored)", [1, 7, 6, 5, 2], 3, 2, "same", "max", rng),
        pool("avg 3d k2 s2 valid batch 2", [2, 4, 6, 4, 3], 2, 2, "valid", "avg", rng),
        pool("avg 3d k3 s2 same (padding excluded)", [1, 5, 6, 7, 2], 3, 2, "same", "avg", rng),
        pool("max 2d k2 s2 valid", [1, 6, 4, 5], 2, 2, "valid", "max", rng),
        resize("trilinear x2", [1, 4, 3, 5, 3], [8, 6, 10], rng),
        resize("trilinear to odd sizes", [1, 3, 4, 5, 2], [5, 7, 9], rng),
        resize("bilinear x2", [1, 3, 5, 4], [6, 10], rng),
        deconv("3d k2 s2 same", [1, 3, 4, 2, 4], 2, 2, 3, "same", rng),
        deconv("3d k3 s2 same (cropped after)", [1, 3, 2, 4, 5], 3, 2, 2, "same", rng),
        deconv("3d k3 s2 valid", [1, 2, 3, 3, 2], 3, 2, 4, "valid", rng),
    ]
    with open(out, "w") as f:
        json.dump({"torch": torch.__version__, "cases": cases}, f)


if __name__ == "__main__":
    main(sys.argv[1])
