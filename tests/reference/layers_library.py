"""Reference outputs (and some gradients) for the layer library, from PyTorch / numpy written independently of
NiftyTS, following NiftyNet 0.6 semantics (TensorFlow conventions: channels-last, "SAME" padding with the smaller
half first, TF1 resize_bilinear sampling without corner alignment or half-pixel centres).

Usage: layers_library.py OUT_JSON. Every case stores its inputs, parameters and outputs flattened row-major in
channels-last order; "r" is a fixed random cotangent, gradients are of sum(output * r).
"""
import json
import sys

import numpy as np
import torch
import torch.nn.functional as F

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(1234)


def rnd(*shape, scale=1.0):
    return (rng.standard_normal(shape) * scale).round(6)


def flat(a):
    return np.asarray(a, dtype=np.float64).ravel().tolist()


def to_torch(x):  # NDHWC / NHWC -> NCDHW / NCHW
    return torch.tensor(np.moveaxis(x, -1, 1), requires_grad=True)


def from_torch(t):
    return np.moveaxis(t.detach().numpy(), 1, -1)


def same_pads(sizes, k, s, d=1):
    pads = []
    for n in sizes:
        total = max((-(-n // s) - 1) * s + (k - 1) * d + 1 - n, 0)
        pads.append((total // 2, total - total // 2))
    return pads


def torch_pad(t, pads, value=0.0):
    flatpads = []
    for before, after in reversed(pads):
        flatpads += [before, after]
    return F.pad(t, flatpads, value=value)


out = {}

# Instance norm (3D): per sample and channel over space, eps 1e-6 (NiftyNet's InstanceNormLayer default).
x = rnd(2, 4, 5, 3, 3)
gamma, beta, r = rnd(3, scale=0.5) + 1, rnd(3, scale=0.5), rnd(2, 4, 5, 3, 3)
t = to_torch(x)
y = F.instance_norm(t, weight=torch.tensor(gamma), bias=torch.tensor(beta), eps=1e-6)
(gx,) = torch.autograd.grad((y * to_torch(r)).sum(), t)
out["instance_norm"] = dict(x=flat(x), gamma=flat(gamma), beta=flat(beta), r=flat(r), out=flat(from_torch(y)),
                            grad_x=flat(from_torch(gx)))

# Group norm (2D): 6 channels in 3 groups, eps 1e-5.
x = rnd(2, 5, 4, 6)
gamma, beta, r = rnd(6, scale=0.5) + 1, rnd(6, scale=0.5), rnd(2, 5, 4, 6)
t = to_torch(x)
y = F.group_norm(t, 3, weight=torch.tensor(gamma), bias=torch.tensor(beta), eps=1e-5)
(gx,) = torch.autograd.grad((y * to_torch(r)).sum(), t)
out["group_norm"] = dict(x=flat(x), gamma=flat(gamma), beta=flat(beta), r=flat(r), out=flat(from_torch(y)),
                         grad_x=flat(from_torch(gx)))


for name, dims, spatial, k, s, padding, bias in (
    ("deconv3d_same_k3s2", 3, (3, 4, 2), 3, 2, "same", False),
    ("deconv3d_valid_k3s2", 3, (2, 3, 2), 3, 2, "valid", True),
    ("deconv2d_valid_k2s2", 2, (3, 4), 2, 2, "valid", True),
):
    cin, cout = 3, 2
    x = rnd(2, *spatial, cin)
    w = rnd(*([k] * dims), cout, cin, scale=0.4)
    b = rnd(cout, scale=0.3) if bias else np.zeros(cout)
    out_spatial = [n * s + (max(k - s, 0) if padding == "valid" else 0) for n in spatial]
    r = rnd(2, *out_spatial, cout)
    # TensorFlow's conv_transpose is the adjoint of conv(·, w) with the same stride and padding:
    # out = ∂<conv(z), x>/∂z at any z (TF layout w [k…, out, in] is a conv kernel from `out` to `in` channels).
    xt = torch.tensor(np.moveaxis(x, -1, 1), requires_grad=True)
    wt = torch.tensor(w, requires_grad=True)
    z2 = torch.zeros((2, cout, *out_spatial), requires_grad=True)
    zp = torch_pad(z2, same_pads(out_spatial, k, s)) if padding == "same" else z2
    perm = [dims + 1, dims] + list(range(dims))
    conv = F.conv3d if dims == 3 else F.conv2d
    yy = conv(zp, wt.permute(*perm), stride=s)
    (fwd,) = torch.autograd.grad((yy * xt).sum(), z2, create_graph=True)
    forward = fwd + torch.tensor(b).reshape(1, -1, *([1] * dims))
    loss = (forward * torch.tensor(np.moveaxis(r, -1, 1))).sum()
    gx, gw = torch.autograd.grad(loss, [xt, wt])
    out[name] = dict(x=flat(x), w=flat(w), b=flat(b), r=flat(r), out=flat(from_torch(forward)),
                     out_shape=[2, *out_spatial, cout], grad_x=flat(np.moveaxis(gx.numpy(), 1, -1)),
                     grad_w=flat(gw.numpy()))


def pool_np(x, k, s, padding, op):
    """Channels-last pooling with TF padding; "avg" excludes padded cells, "centre" keeps the window centre."""
    dims = x.ndim - 2
    sizes = x.shape[1:-1]
    pads = same_pads(sizes, k, s) if padding == "same" else [(0, 0)] * dims
    outs = [(n + p0 + p1 - k) // s + 1 for n, (p0, p1) in zip(sizes, pads)]
    res = np.zeros((x.shape[0], *outs, x.shape[-1]))
    for idx in np.ndindex(*outs):
        lo = [i * s - p[0] for i, p in zip(idx, pads)]
        if op == "centre":
            c = [l + k // 2 for l in lo]
            inside = all(0 <= ci < n for ci, n in zip(c, sizes))
            res[(slice(None), *idx)] = x[(slice(None), *c)] if inside else 0
            continue
        sl = tuple(slice(max(l, 0), min(l + k, n)) for l, n in zip(lo, sizes))
        win = x[(slice(None), *sl)].reshape(x.shape[0], -1, x.shape[-1])
        res[(slice(None), *idx)] = win.max(1) if op == "max" else win.mean(1)
    return res


x = rnd(2, 5, 4, 3, 2)
out["downsample"] = dict(
    x=flat(x),
    max_same_k3s2=flat(pool_np(x, 3, 2, "same", "max")),
    avg_same_k3s2=flat(pool_np(x, 3, 2, "same", "avg")),
    max_valid_k2s2=flat(pool_np(x, 2, 2, "valid", "max")),
    constant_same_k3s2=flat(pool_np(x, 3, 2, "same", "centre")),
)


def legacy_resize_axis(a, axis, new):
    """TF1 resize_bilinear along one axis: src = i·in/new, lo = floor, hi = min(lo + 1, in − 1)."""
    n = a.shape[axis]
    if n == new:
        return a
    src = np.arange(new) * (n / new)
    lo = np.floor(src).astype(int)
    hi = np.minimum(lo + 1, n - 1)
    f = (src - lo).reshape([-1 if i == axis else 1 for i in range(a.ndim)])
    return np.take(a, lo, axis) * (1 - f) + np.take(a, hi, axis) * f


x = rnd(1, 3, 4, 2, 4)
resized = x
for axis, new in zip((1, 2, 3), (5, 7, 3)):
    resized = legacy_resize_axis(resized, axis, new)
x2 = rnd(2, 3, 5, 2)
resized2 = legacy_resize_axis(legacy_resize_axis(x2, 1, 6), 2, 4)
additive = resized.reshape(*resized.shape[:-1], 2, 2).sum(-2)
out["linear_resize"] = dict(x=flat(x), size=[5, 7, 3], out=flat(resized), x2d=flat(x2), size2d=[6, 4],
                            out2d=flat(resized2), additive_2splits=flat(additive))

# Elementwise SUM: zero-pad a narrower bypass (⌊diff/2⌋ before) / project a wider one with a 1×1 conv.
flow, narrow, wide = rnd(2, 3, 3, 5), rnd(2, 3, 3, 2), rnd(2, 3, 3, 7)
proj = rnd(1, 1, 7, 5, scale=0.3)
padded = np.concatenate([np.zeros((2, 3, 3, 1)), narrow, np.zeros((2, 3, 3, 2))], -1)
out["elementwise"] = dict(flow=flat(flow), narrow=flat(narrow), wide=flat(wide), proj=flat(proj),
                          sum_pad=flat(flow + padded), sum_proj=flat(flow + wide @ proj[0, 0]))

# Residual unit, "original" order, training-mode batch norm (biased variance, eps 1e-5), relu.
x = rnd(2, 4, 4, 3, 3)
w0, w1 = rnd(3, 3, 3, 3, 3, scale=0.3), rnd(3, 3, 3, 3, 3, scale=0.3)


def conv_same(t, w):
    wt = torch.tensor(np.moveaxis(np.moveaxis(w, -1, 0), -1, 1).copy())
    return F.conv3d(torch_pad(t, same_pads(t.shape[2:], w.shape[0], 1)), wt)


def bn_train(t):
    axes = [0] + list(range(2, t.ndim))
    mean = t.mean(axes, keepdim=True)
    var = ((t - mean) ** 2).mean(axes, keepdim=True)
    return (t - mean) / torch.sqrt(var + 1e-5)


t = to_torch(x)
h = F.relu(bn_train(conv_same(t, w0)))
h = bn_train(conv_same(h, w1))
res_original = F.relu(h + t)
t2 = to_torch(x)
h = conv_same(F.relu(bn_train(t2)), w0)
res_pre = conv_same(F.relu(bn_train(h)), w1) + t2
out["residual_unit"] = dict(x=flat(x), w0=flat(w0), w1=flat(w1), original=flat(from_torch(res_original)),
                            bn_acti_conv=flat(from_torch(res_pre)))

# Squeeze-excitation: channel (avg → fc relu → fc sigmoid → scale), spatial (1×1 conv → sigmoid → scale).
x = rnd(2, 3, 4, 2, 8)
fc1, fc2, sconv = rnd(8, 2, scale=0.5), rnd(2, 8, scale=0.5), rnd(1, 1, 1, 8, 1, scale=0.5)
sq = x.mean((1, 2, 3))
exc = 1 / (1 + np.exp(-(np.maximum(sq @ fc1, 0) @ fc2)))
cse = x * exc[:, None, None, None, :]
sse = x * (1 / (1 + np.exp(-(x @ sconv[0, 0, 0]))))
sqmax = x.max((1, 2, 3))
cse_max = x * (1 / (1 + np.exp(-(np.maximum(sqmax @ fc1, 0) @ fc2))))[:, None, None, None, :]
out["squeeze_excitation"] = dict(x=flat(x), fc1=flat(fc1), fc2=flat(fc2), sconv=flat(sconv), channel=flat(cse),
                                 channel_max=flat(cse_max), spatial=flat(sse), both=flat(cse + sse))

with open(sys.argv[1], "w") as fh:
    json.dump(out, fh)
