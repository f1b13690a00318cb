"""Reference for the oneDNN conv kernels (tests/kernels_fast_conv_test.ts): PyTorch conv2d/conv3d output and the
input/kernel gradients of sum(y * dy), with TensorFlow's "same"/"valid" padding, in tfjs layouts (channels-last,
kernel [k..., in, out]). Usage: python3 kernels_fast_conv.py OUT.json"""
import json
import math
import sys

import numpy as np
import torch
import torch.nn.functional as F

CASES = [
    # name, x shape (channels-last), kernel spatial, out channels, strides, dilations, padding
    ("3d k3 s1 same", [1, 7, 6, 5, 3], [3, 3, 3], 4, [1, 1, 1], [1, 1, 1], "same"),
    ("3d k3 s2 same", [1, 7, 6, 5, 3], [3, 3, 3], 4, [2, 2, 2], [1, 1, 1], "same"),
    ("3d k3 s2 valid odd remainder", [1, 8, 7, 6, 2], [3, 3, 3], 3, [2, 2, 2], [1, 1, 1], "valid"),
    ("3d k3 d2 same", [1, 9, 7, 6, 3], [3, 3, 3], 4, [1, 1, 1], [2, 2, 2], "same"),
    ("3d k3 d2 valid", [1, 9, 8, 7, 2], [3, 3, 3], 3, [1, 1, 1], [2, 2, 2], "valid"),
    ("3d k3 d[1,2,3] same", [1, 7, 8, 9, 2], [3, 3, 3], 2, [1, 1, 1], [1, 2, 3], "same"),
    ("3d k2 s1 same (asymmetric pad)", [1, 6, 5, 6, 2], [2, 2, 2], 3, [1, 1, 1], [1, 1, 1], "same"),
    ("3d k[3,1,3] s[2,1,2] same batch 2", [2, 7, 5, 6, 3], [3, 1, 3], 4, [2, 1, 2], [1, 1, 1], "same"),
    ("3d k3 s2 same 8->16 channels (blocked filter)", [1, 5, 4, 5, 8], [3, 3, 3], 16, [2, 2, 2], [1, 1, 1], "same"),
    ("2d k3 s2 same", [1, 9, 8, 3], [3, 3], 5, [2, 2], [1, 1], "same"),
    ("2d k3 d2 valid batch 2", [2, 9, 8, 3], [3, 3], 4, [1, 1], [2, 2], "valid"),
    ("2d k1 pointwise", [1, 5, 5, 4], [1, 1], 6, [1, 1], [1, 1], "valid"),
    ("2d k3 d[2,3] same batch 1", [1, 9, 11, 3], [3, 3], 4, [1, 1], [2, 3], "same"),
    ("3d k3 d4 same", [1, 9, 9, 10, 2], [3, 3, 3], 3, [1, 1, 1], [4, 4, 4], "same"),
]


def tf_pads(n, k, s, d, padding):
    if padding == "valid":
        return 0, 0
    e = (k - 1) * d + 1
    out = math.ceil(n / s)
    total = max((out - 1) * s + e - n, 0)
    return total // 2, total - total // 2


def run(case, rng):
    name, shape, kernel, cout, strides, dilations, padding = case
    rank = len(kernel)
    cin = shape[-1]
    x = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal(kernel + [cin, cout]) / math.sqrt(cin * np.prod(kernel))).astype(np.float32)
    # channels-last -> channels-first; kernel [k..., in, out] -> [out, in, k...]
    xt = torch.tensor(np.moveaxis(x, -1, 1).copy(), requires_grad=True)
    wt = torch.tensor(np.transpose(w, [rank + 1, rank] + list(range(rank))).copy(), requires_grad=True)
    pads = []
    for i in reversed(range(rank)):  # F.pad lists the last axis first
        pads += list(tf_pads(shape[i + 1], kernel[i], strides[i], dilations[i], padding))
    conv = F.conv3d if rank == 3 else F.conv2d
    y = conv(F.pad(xt, pads), wt, stride=strides, dilation=dilations)
    dy = rng.standard_normal(y.shape).astype(np.float32)
    (y * torch.tensor(dy)).sum().backward()
    last = lambda t: np.moveaxis(t, 1, -1)
    r = lambda a: [float(f"{v:.7g}") for v in np.asarray(a, dtype=np.float32).ravel()]
    return {
        "name": name,
        "strides": strides,
        "dilations": dilations,
        "padding": padding,
        "x_shape": shape,
        "w_shape": kernel + [cin, cout],
        "y_shape": list(last(y.detach().numpy()).shape),
        "x": r(x),
        "w": r(w),
        "dy": r(last(dy)),
        "y": r(last(y.detach().numpy())),
        "dx": r(last(xt.grad.numpy())),
        "dw": r(np.transpose(wt.grad.numpy(), list(range(2, rank + 2)) + [1, 0])),
    }


def main(out):
    torch.manual_seed(0)
    torch.set_num_threads(1)
    rng = np.random.default_rng(8)
    result = {"torch": torch.__version__, "cases": [run(c, rng) for c in CASES]}
    with open(out, "w") as f:
        json.dump(result, f)


if __name__ == "__main__":
    main(sys.argv[1])
