"""Runs NiftyNet networks in PyTorch (float64, inference mode) on NiftyTS weights.

Usage: networks_torch_forward.py NETWORK CHECKPOINT INPUT OUT_JSON [FEATURES [BORDER]]
NETWORK is "highres3dnet" (prelu), "unet" (prelu; FEATURES "f0,f1,f2,f3,f4", BORDER the crop), "vnet" (relu;
FEATURES) or "nonewnet" (leaky relu, instance norm; FEATURES). CHECKPOINT is a
safetensors file with NiftyNet variable names (TensorFlow layouts: conv [k, k, k, in, out], transposed conv
[k, k, k, out, in]); INPUT holds "input" as [1, D, H, W, C]. The architecture is written here from NiftyNet's
code, independently of NiftyTS. Writes {"output": [...] (NDHWC order), "shape": [...], "parameters": n,
"unused": [names in the checkpoint this model did not read]}.
"""
import json
import struct
import sys

import numpy as np
import torch
import torch.nn.functional as F

DTYPES = {"F32": "<f4", "F64": "<f8"}
EPS = 1e-5


def read_safetensors(path):
    data = open(path, "rb").read()
    (n,) = struct.unpack("<Q", data[:8])
    header = json.loads(data[8:8 + n])
    out = {}
    for name, spec in header.items():
        if name == "__metadata__":
            continue
        begin, end = spec["data_offsets"]
        raw = data[8 + n + begin:8 + n + end]
        out[name] = np.frombuffer(raw, dtype=DTYPES[spec["dtype"]]).reshape(spec["shape"]).astype(np.float64)
    return out


class Weights:
    def __init__(self, tensors):
        self.tensors, self.read, self.trainable = tensors, set(), 0

    def get(self, name, trainable=True):
        if name not in self.tensors:
            raise KeyError(f"checkpoint lacks {name}")
        if name not in self.read and trainable:
            self.trainable += self.tensors[name].size
        self.read.add(name)
        return torch.tensor(self.tensors[name])


def same_pad(x, k, stride, dilation):
    """TensorFlow "SAME": total padding max((ceil(n/s) - 1) s + (k - 1) d + 1 - n, 0), the smaller half first."""
    pads = []
    for n in reversed(x.shape[2:]):
        total = max((-(-n // stride) - 1) * stride + (k - 1) * dilation + 1 - n, 0)
        pads += [total // 2, total - total // 2]
    return F.pad(x, pads)


def conv(W, x, name, stride=1, dilation=1):
    w = W.get(f"{name}/w")  # [k, k, k, in, out]
    x = same_pad(x, w.shape[0], stride, dilation)
    return F.conv3d(x, w.permute(4, 3, 0, 1, 2), stride=stride, dilation=dilation)


def deconv2(W, x, name):
    w = W.get(f"{name}/w")  # [2, 2, 2, out, in]; kernel = stride = 2 gives exactly 2n with "SAME"
    return F.conv_transpose3d(x, w.permute(4, 3, 0, 1, 2), stride=2)


def bn(W, x, name):
    shape = (1, -1, 1, 1, 1)
    mean = W.get(f"{name}/moving_mean", False).reshape(shape)
    var = W.get(f"{name}/moving_variance", False).reshape(shape)
    gamma, beta = W.get(f"{name}/gamma").reshape(shape), W.get(f"{name}/beta").reshape(shape)
    return (x - mean) / torch.sqrt(var + EPS) * gamma + beta


def prelu(W, x, name):
    alpha = W.get(f"{name}/alpha").reshape(1, -1, 1, 1, 1)
    return F.relu(x) + alpha * (x - x.abs()) * 0.5


def conv_bn_prelu(W, x, name, acti=True):
    x = bn(W, conv(W, x, f"{name}/conv_"), f"{name}/bn_")
    return prelu(W, x, f"{name}/prelu_acti_") if acti else x


def pad_channels(bypass, n):
    diff = n - bypass.shape[1]
    return F.pad(bypass, [0, 0, 0, 0, 0, 0, diff // 2, diff - diff // 2]) if diff > 0 else bypass


def highres3dnet(W, x):
    net = "HighRes3DNet"
    x = conv_bn_prelu(W, x, f"{net}/conv_0_bn_prelu")
    for stage, n, d in ((1, 16, 1), (2, 32, 2), (3, 64, 4)):
        for j in range(3):
            block = f"{net}/res_{stage}_{j}"
            t = x
            for i in range(2):
                t = prelu(W, bn(W, t, f"{block}/bn_{i}"), f"{block}/prelu_acti_{i}")
                t = conv(W, t, f"{block}/conv_{i}", dilation=d)
            x = t + pad_channels(x, n)
    x = conv_bn_prelu(W, x, f"{net}/conv_1_bn_prelu")
    return conv_bn_prelu(W, x, f"{net}/conv_2_bn", acti=False)


def unet3d(W, x, f, k, border):
    net = "UNet"

    def block(x, name, feats, kernels, after):
        used = {}
        for n in feats:
            key = f"{n}_bn_prelu"
            scope = key if key not in used else f"{key}_{used[key]}"
            used[key] = used.get(key, 0) + 1
            x = conv_bn_prelu(W, x, f"{net}/{name}/{scope}")
        branch = x
        if after == "down":
            x = F.max_pool3d(x, 2, 2)
        elif after == "up":
            x = bn(W, deconv2(W, x, f"{net}/{name}/up_2x2_bn/deconv_"), f"{net}/{name}/up_2x2_bn/bn_")
        return x, branch

    p1, c1 = block(x, "L1", (f[0], f[1]), None, "down")
    p2, c2 = block(p1, "L2", (f[1], f[2]), None, "down")
    p3, c3 = block(p2, "L3", (f[2], f[3]), None, "down")
    u3, _ = block(p3, "L4", (f[3], f[4]), None, "up")
    u2, _ = block(torch.cat([c3, u3], 1), "R3", (f[3], f[3]), None, "up")
    u1, _ = block(torch.cat([c2, u2], 1), "R2", (f[2], f[2]), None, "up")
    _, out = block(torch.cat([c1, u1], 1), "R1_FC", (f[1], f[1], k), None, None)
    b = border
    return out[:, :, b:out.shape[2] - b, b:out.shape[3] - b, b:out.shape[4] - b]


def vnet(W, x, f, k):
    net = "VNet"

    def block(name, main, bypass, n_conv, func):
        for i in range(n_conv):
            main = conv(W, main, f"{net}/{name}/conv_{i}")
            if i < n_conv - 1:
                main = F.relu(main)
        res = main + pad_channels(bypass, main.shape[1])
        if func == "down":
            w, b = W.get(f"{net}/{name}/downsample/w"), W.get(f"{net}/{name}/downsample/b")
            out = F.conv3d(res, w.permute(4, 3, 0, 1, 2), b, stride=2)
        elif func == "up":
            w, b = W.get(f"{net}/{name}/upsample/w"), W.get(f"{net}/{name}/upsample/b")
            out = F.conv_transpose3d(res, w.permute(4, 3, 0, 1, 2), b, stride=2)
        else:
            w, b = W.get(f"{net}/{name}/conv_1x1x1/w"), W.get(f"{net}/{name}/conv_1x1x1/b")
            out = F.conv3d(res, w.permute(4, 3, 0, 1, 2), b)
        return res, F.relu(out)

    tiled = x.repeat(1, f[0], 1, 1, 1)
    r1, d1 = block("L1", x, tiled, 1, "down")
    r2, d2 = block("L2", d1, d1, 2, "down")
    r3, d3 = block("L3", d2, d2, 3, "down")
    r4, d4 = block("L4", d3, d3, 3, "down")
    _, u4 = block("V_", d4, d4, 3, "up")
    _, u3 = block("R4", torch.cat([u4, r4], 1), u4, 3, "up")
    _, u2 = block("R3", torch.cat([u3, r3], 1), u3, 3, "up")
    _, u1 = block("R2", torch.cat([u2, r2], 1), u2, 2, "up")
    _, out = block("R1", torch.cat([u1, r1], 1), u1, 1, "same")
    return out


def upsample2_tf1(x):
    """TF1 resize_bilinear to twice the size (no corner alignment, no half-pixel centres), axis by axis."""
    for axis in (2, 3, 4):
        n = x.shape[axis]
        src = torch.arange(2 * n, dtype=torch.float64) / 2
        lo = src.floor().long()
        hi = torch.clamp(lo + 1, max=n - 1)
        frac = (src - lo).reshape([-1 if a == axis else 1 for a in range(5)])
        x = x.index_select(axis, lo) * (1 - frac) + x.index_select(axis, hi) * frac
    return x


def nonewnet(W, x, f, k):
    net = "NoNewNet"

    def conv_in_lrelu(x, scope):
        x = conv(W, x, f"{scope}/conv_")
        g = W.get(f"{scope}/in_/InstanceNorm/gamma")
        b = W.get(f"{scope}/in_/InstanceNorm/beta")
        x = F.instance_norm(x, weight=g, bias=b, eps=1e-5)
        return 0.51 * x + 0.49 * x.abs()  # NiftyNet's leaky relu (slope 0.02)

    def block(x, name, feats, kernels, after):
        used = {}
        for n, kk in zip(feats, kernels):
            key = f"{n}_in_leakyrelu" if kk > 1 else f"{n}"
            scope = key if key not in used else f"{key}_{used[key]}"
            used[key] = used.get(key, 0) + 1
            x = conv_in_lrelu(x, f"{net}/{name}/{scope}") if kk > 1 else conv(W, x, f"{net}/{name}/{scope}/conv_")
        branch = x
        if after == "down":
            x = F.max_pool3d(x, 2, 2)
        elif after == "up":
            x = upsample2_tf1(x)
        return x, branch

    x, c1 = block(x, "L1", (f[0], f[0]), (3, 3), "down")
    x, c2 = block(x, "L2", (f[1], f[1]), (3, 3), "down")
    x, c3 = block(x, "L3", (f[2], f[2]), (3, 3), "down")
    x, c4 = block(x, "L4", (f[3], f[3]), (3, 3), "down")
    x, _ = block(x, "bottom", (f[4], f[3]), (3, 3), "up")
    x, _ = block(torch.cat([c4, x], 1), "R4", (f[3], f[2]), (3, 3), "up")
    x, _ = block(torch.cat([c3, x], 1), "R3", (f[2], f[1]), (3, 3), "up")
    x, _ = block(torch.cat([c2, x], 1), "R2", (f[1], f[0]), (3, 3), "up")
    x, _ = block(torch.cat([c1, x], 1), "R1_FC", (f[0], f[0], k), (3, 3, 1), None)
    return x


def main():
    network, ckpt, inp, out_path = sys.argv[1:5]
    W = Weights(read_safetensors(ckpt))
    x = torch.tensor(read_safetensors(inp)["input"].transpose(0, 4, 1, 2, 3))
    with torch.no_grad():
        if network == "highres3dnet":
            y = highres3dnet(W, x)
        elif network == "unet":
            f = [int(v) for v in sys.argv[5].split(",")]
            k = next(W.tensors[n].shape[-1] for n in W.tensors
                     if n.startswith("UNet/R1_FC/") and n.endswith("/conv_/w") and W.tensors[n].shape[0] == 1)
            y = unet3d(W, x, f, k, int(sys.argv[6]))
        elif network in ("vnet", "nonewnet"):
            f = [int(v) for v in sys.argv[5].split(",")]
            last = "VNet/R1/conv_1x1x1/w" if network == "vnet" else next(
                n for n in W.tensors if n.startswith("NoNewNet/R1_FC/") and W.tensors[n].shape[0] == 1)
            k = W.tensors[last].shape[-1]
            y = (vnet if network == "vnet" else nonewnet)(W, x, f, k)
        else:
            raise SystemExit(f"unknown network {network}")
    y = y.numpy().transpose(0, 2, 3, 4, 1)
    with open(out_path, "w") as fh:
        json.dump({
            "output": y.ravel().tolist(),
            "shape": list(y.shape),
            "parameters": W.trainable,
            "unused": sorted(set(W.tensors) - W.read),
        }, fh)


main()
