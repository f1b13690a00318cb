"""PyTorch (float64) references for src/kernels: transposed conv3d, dilated conv2d/conv3d, trilinear/nearest
resize and max_pool3d, each with the gradients of loss = sum(out * r) for a fixed random r.

Everything is stored in TensorFlow layout, flattened row-major: activations NDHWC / NHWC, conv kernels
[k..., cin, cout], conv3d_transpose kernels [k..., cout, cin]. Conversions used here:
  conv kernel      tf [kd, kh, kw, ci, co]  -> torch [co, ci, kd, kh, kw]   permute(4, 3, 0, 1, 2)
  transpose kernel tf [kd, kh, kw, co, ci]  -> torch [ci, co, kd, kh, kw]   permute(4, 3, 0, 1, 2)
  (F.conv_transpose3d weight is [in_channels, out_channels, k...], the same tensor as the forward conv's)
Inputs are drawn in float32 so that the TypeScript side uses exactly the same numbers.

Usage: python3 kernels_reference.py OUT.json
"""
import json
import sys

import torch
import torch.nn.functional as F

torch.manual_seed(20261129)
torch.set_num_threads(1)


def rand(*shape, shift=0.0):
    return (torch.randn(*shape, dtype=torch.float32) + shift).to(torch.float64)


def flat(t):
    return [float(f"{v:.9g}") for v in t.detach().reshape(-1).tolist()]


def to_torch(x):  # N...C -> NC...
    return x.permute(0, x.dim() - 1, *range(1, x.dim() - 1))


def to_tf(x):  # NC... -> N...C
    return x.permute(0, *range(2, x.dim()), 1)


def kernel_to_torch(w):  # [k..., a, b] -> [b, a, k...]
    r = w.dim() - 2
    return w.permute(r + 1, r, *range(r))


def kernel_to_tf(w):  # inverse of kernel_to_torch
    r = w.dim() - 2
    return w.permute(*range(2, r + 2), 1, 0)


def conv_transpose3d_case(stride, pad, out_shape, cin=3, k=3):
    n, *o, cout = out_shape
    if pad == "same":
        i = [-(-d // stride) for d in o]
        front = [max((ii - 1) * stride + k - d, 0) // 2 for ii, d in zip(i, o)]
    else:
        i = [(d - k) // stride + 1 for d in o]
        front = [0, 0, 0]
    x = rand(n, *i, cin).requires_grad_()
    w = rand(k, k, k, cout, cin).requires_grad_()
    full = F.conv_transpose3d(to_torch(x), kernel_to_torch(w), stride=stride)
    # crop window [front, front + o) of the full transposed output, zero-extended where it runs past the end
    pads = []
    for ax in (2, 1, 0):
        pads += [-front[ax], front[ax] + o[ax] - full.shape[2 + ax]]
    out = to_tf(F.pad(full, pads))
    r = rand(*out.shape)
    gx, gw = torch.autograd.grad((out * r).sum(), [x, w])
    return {"stride": stride, "pad": pad, "x_shape": list(x.shape), "w_shape": list(w.shape),
            "out_shape": list(out.shape), "x": flat(x), "w": flat(w), "r": flat(r), "out": flat(out),
            "grad_x": flat(gx), "grad_w": flat(gw)}


def conv_case(x, w, dilations, pad):
    r = x.dim() - 2
    k = list(w.shape[:r])
    if pad == "same":  # TF same, stride 1, odd k: (k-1)*d/2 on both sides
        padding = [(kk - 1) * d // 2 for kk, d in zip(k, dilations)]
    else:
        padding = [0] * r
    conv = F.conv2d if r == 2 else F.conv3d
    out = to_tf(conv(to_torch(x), kernel_to_torch(w), dilation=dilations, padding=padding))
    rr = rand(*out.shape)
    gx, gw = torch.autograd.grad((out * rr).sum(), [x, w])
    return {"dilations": dilations, "pad": pad, "out_shape": list(out.shape), "r": flat(rr), "out": flat(out),
            "grad_x": flat(gx), "grad_w": flat(gw)}


def conv_group(x_shape, w_shape, cases):
    x = rand(*x_shape).requires_grad_()
    w = rand(*w_shape).requires_grad_()
    return {"x_shape": x_shape, "w_shape": w_shape, "x": flat(x), "w": flat(w),
            "cases": [conv_case(x, w, d, p) for d, p in cases]}


def resize_case(x, size, mode, align_corners):
    kw = {} if mode.startswith("nearest") else {"align_corners": align_corners}
    out = to_tf(F.interpolate(to_torch(x), size=size, mode=mode, **kw))
    r = rand(*out.shape)
    (gx,) = torch.autograd.grad((out * r).sum(), [x])
    return {"size": size, "mode": mode, "align_corners": align_corners, "out_shape": list(out.shape),
            "r": flat(r), "out": flat(out), "grad_x": flat(gx)}


def resize_group(x_shape, cases):
    x = rand(*x_shape).requires_grad_()
    return {"x_shape": x_shape, "x": flat(x), "cases": [resize_case(x, *c) for c in cases]}


def max_pool3d_case(x, k, s):
    out = to_tf(F.max_pool3d(to_torch(x), kernel_size=k, stride=s))
    r = rand(*out.shape)
    (gx,) = torch.autograd.grad((out * r).sum(), [x])
    return {"filter": k, "stride": s, "out_shape": list(out.shape), "r": flat(r), "out": flat(out),
            "grad_x": flat(gx)}


def main(path):
    tiny = [1, 5, 6, 7, 2]
    conv_transpose = [conv_transpose3d_case(s, p, tiny) for s in (1, 2) for p in ("same", "valid")]
    conv3d = conv_group([1, 5, 6, 7, 2], [3, 3, 3, 2, 3],
                        [([1, 1, 1], "same"), ([2, 2, 2], "same"), ([4, 4, 4], "same"), ([1, 2, 3], "same"),
                         ([2, 2, 2], "valid")])
    conv2d = conv_group([2, 6, 7, 2], [3, 3, 2, 3],
                        [([1, 1], "same"), ([2, 2], "same"), ([4, 4], "same"), ([2, 1], "same"),
                         ([2, 2], "valid")])
    conv2d_k5 = conv_group([1, 9, 8, 2], [5, 5, 2, 2], [([2, 2], "same"), ([4, 4], "same")])
    resize3d = resize_group([1, 3, 4, 5, 2],
                            [([5, 7, 3], "trilinear", True), ([5, 7, 3], "trilinear", False),
                             ([2, 3, 9], "trilinear", True), ([2, 3, 9], "trilinear", False),
                             ([5, 7, 3], "nearest", False), ([2, 3, 9], "nearest-exact", False)])
    resize2d = resize_group([2, 3, 5, 2],
                            [([7, 4], "bilinear", True), ([7, 4], "bilinear", False),
                             ([2, 8], "bilinear", True), ([2, 8], "bilinear", False)])
    x = rand(1, 4, 6, 5, 2, shift=-3.0).requires_grad_()  # mostly negative: windows with a negative max
    max_pool = {"x_shape": list(x.shape), "x": flat(x),
                "cases": [max_pool3d_case(x, 2, 2), max_pool3d_case(x, 3, 2)]}
    out = {"conv_transpose3d": conv_transpose, "conv3d": conv3d, "conv2d": conv2d, "conv2d_k5": conv2d_k5,
           "resize3d": resize3d, "resize2d": resize2d, "max_pool3d": max_pool}
    with open(path, "w") as f:
        json.dump(out, f, separators=(",", ":"))


if __name__ == "__main__":
    main(sys.argv[1])
