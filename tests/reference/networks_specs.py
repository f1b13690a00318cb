"""Variable paths, shapes and parameter counts of NiftyNet 0.6 networks, written out from reading NiftyNet's
network and layer code (niftynet/network/{highres3dnet,highres3dnet_small,highres3dnet_large,unet,unet_2d,vnet,
no_new_net}.py and the layers they use), independently of the NiftyTS implementation.

Usage: networks_specs.py OUT_JSON
For each configuration: the sorted list of [path, shape, trainable] and the trainable / total parameter counts.
TensorFlow scoping rules reproduced: a scope name used again in the same parent becomes name_1, name_2, ...
"""
import json
import sys
from math import prod


class Scope:
    def __init__(self, out, path):
        self.out, self.path, self.used = out, path, {}

    def child(self, name):
        n = self.used.get(name, 0)
        self.used[name] = n + 1
        return Scope(self.out, f"{self.path}/{name if n == 0 else f'{name}_{n}'}")

    def var(self, name, shape, trainable=True):
        self.out.append([f"{self.path}/{name}", list(shape), trainable])


def bn(scope, c, name="bn_"):
    s = scope.child(name)
    s.var("beta", [c])
    s.var("gamma", [c])
    s.var("moving_mean", [c], False)
    s.var("moving_variance", [c], False)


def acti(scope, func, c, name):
    # ActiLayer names its scope "<func>_<name>"; only prelu owns a variable.
    s = scope.child(f"{func}_{name}")
    if func == "prelu":
        s.var("alpha", [c])


def conv_block(scope, cin, cout, k, dims, name, acti_func, norm="batch", bias=False, deconv=False):
    """ConvolutionalLayer / DeconvolutionalLayer: <name>[_bn|_in|_gn][_<acti>]/{conv_|deconv_, bn_|in_, acti_}."""
    suffix = {"batch": "_bn", "instance": "_in", None: ""}[norm] + (f"_{acti_func}" if acti_func else "")
    s = scope.child(name + suffix)
    if deconv:
        c = s.child("deconv_")
        c.var("w", [k] * dims + [cout, cin])
    else:
        c = s.child("conv_")
        c.var("w", [k] * dims + [cin, cout])
    if bias:
        c.var("b", [cout])
    if norm == "batch":
        bn(s, cout)
    elif norm == "instance":
        n = s.child("in_").child("InstanceNorm")
        n.var("beta", [cout])
        n.var("gamma", [cout])
    if acti_func:
        acti(s, acti_func, cout, "acti_")


def highres3dnet(cin, k, variant="base", acti_func=None):
    out = []
    acti_func = acti_func or ("prelu" if variant == "base" else "relu")
    net = Scope(out, "HighRes3DNetSmall" if variant == "small" else "HighRes3DNet")
    conv_block(net, cin, 16, 3, 3, "conv_0", acti_func)
    c = 16
    for stage, n in ((1, 16), (2, 32), (3, 64)):
        for j in range(3):
            block = net.child(f"res_{stage}_{j}")
            for i, cc in enumerate((c, n)):
                bn(block, cc, f"bn_{i}")
                acti(block, acti_func, cc, f"acti_{i}")
                block.child(f"conv_{i}").var("w", [3, 3, 3, cc, n])
            c = n  # residual_sum pads the bypass channels: no variables
    if variant == "base":
        conv_block(net, 64, 80, 1, 3, "conv_1", acti_func)
        conv_block(net, 80, k, 1, 3, "conv_2", None)
    elif variant == "small":
        conv_block(net, 64, 80, 3, 3, "conv_1", acti_func)
        conv_block(net, 80, 80, 3, 3, "deconv", acti_func, deconv=True)
        conv_block(net, 80, k, 1, 3, "conv_2", None)
    else:
        conv_block(net, 64, 64, 3, 3, "conv_1", acti_func)
        conv_block(net, 64, 64, 1, 3, "conv_2", acti_func)
        conv_block(net, 64, k, 1, 3, "conv_3", None)
    return out


def unet3d(cin, k, f=(32, 64, 128, 256, 512), dims=3, acti_func="prelu"):
    out = []
    net = Scope(out, "UNet")

    def block(name, cin, feats, kernels, up):
        s = net.child(name)
        c = cin
        for n, kk in zip(feats, kernels):
            conv_block(s, c, n, kk, dims, f"{n}", acti_func)
            c = n
        if up:  # DeconvolutionalLayer(n_chns[-1], 2, 2, name='up_2x2'): batch norm, no activation
            conv_block(s, c, c, 2, dims, "up_2x2", None, deconv=True)

    block("L1", cin, (f[0], f[1]), (3, 3), False)
    block("L2", f[1], (f[1], f[2]), (3, 3), False)
    block("L3", f[2], (f[2], f[3]), (3, 3), False)
    block("L4", f[3], (f[3], f[4]), (3, 3), True)
    block("R3", f[3] + f[4], (f[3], f[3]), (3, 3), True)
    block("R2", f[2] + f[3], (f[2], f[2]), (3, 3), True)
    block("R1_FC", f[1] + f[2], (f[1], f[1], k), (3, 3, 1), False)
    return out


def unet2d(cin, k, f=(64, 128, 256, 512, 1024), acti_func="relu"):
    out = []
    net = Scope(out, "UNet2D")

    def two_conv(cin, n):
        s = net.child("TwoConv")
        conv_block(s, cin, n, 3, 2, "conv", acti_func, bias=True)
        conv_block(s, n, n, 3, 2, "conv", acti_func, bias=True)

    c = cin
    for n in f:
        two_conv(c, n)
        c = n
    for n in reversed(f[:4]):
        conv_block(net, c, n, 2, 2, "deconv", acti_func, bias=True, deconv=True)
        two_conv(2 * n, n)
        c = n
    conv_block(net, c, k, 1, 2, "conv", None, norm=None, bias=True)
    return out


def vnet(cin, k, f=(16, 32, 64, 128, 256), dims=3):
    out = []
    net = Scope(out, "VNet")

    def block(name, n_conv, main_c, n_feat, bypass_c, n_out, func):
        s = net.child(name)
        c = main_c
        for i in range(n_conv):
            s.child(f"conv_{i}").var("w", [5] * dims + [c, n_feat])
            c = n_feat
        if bypass_c > n_feat:  # ElementwiseLayer SUM projects a wider bypass
            s.child("residual_sum").child("proj").var("w", [1] * dims + [bypass_c, n_feat])
        final = s.child({"down": "downsample", "up": "upsample", "same": "conv_1x1x1"}[func])
        kk = 1 if func == "same" else 2
        final.var("w", [kk] * dims + ([n_out, n_feat] if func == "up" else [n_feat, n_out]))
        final.var("b", [n_out])

    block("L1", 1, cin, f[0], cin * f[0], f[1], "down")
    block("L2", 2, f[1], f[1], f[1], f[2], "down")
    block("L3", 3, f[2], f[2], f[2], f[3], "down")
    block("L4", 3, f[3], f[3], f[3], f[4], "down")
    block("V_", 3, f[4], f[4], f[4], f[4], "up")
    block("R4", 3, f[4] + f[3], f[4], f[4], f[3], "up")
    block("R3", 3, f[3] + f[2], f[3], f[3], f[2], "up")
    block("R2", 2, f[2] + f[1], f[2], f[2], f[1], "up")
    block("R1", 1, f[1] + f[0], f[1], f[1], k, "same")
    return out


def nonewnet(cin, k, f=(30, 60, 120, 240, 480), acti_func="leakyrelu"):
    out = []
    net = Scope(out, "NoNewNet")

    def block(name, cin, feats, kernels):
        s = net.child(name)
        c = cin
        for n, kk in zip(feats, kernels):
            if kk > 1:
                conv_block(s, c, n, kk, 3, f"{n}", acti_func, norm="instance")
            else:
                conv_block(s, c, n, kk, 3, f"{n}", None, norm=None)
            c = n

    block("L1", cin, (f[0], f[0]), (3, 3))
    block("L2", f[0], (f[1], f[1]), (3, 3))
    block("L3", f[1], (f[2], f[2]), (3, 3))
    block("L4", f[2], (f[3], f[3]), (3, 3))
    block("bottom", f[3], (f[4], f[3]), (3, 3))
    block("R4", 2 * f[3], (f[3], f[2]), (3, 3))
    block("R3", 2 * f[2], (f[2], f[1]), (3, 3))
    block("R2", 2 * f[1], (f[1], f[0]), (3, 3))
    block("R1_FC", 2 * f[0], (f[0], f[0], k), (3, 3, 1))
    return out


def summary(variables):
    variables = sorted(variables, key=lambda v: v[0])
    return {
        "variables": variables,
        "trainable": sum(prod(s) for _, s, t in variables if t),
        "total": sum(prod(s) for _, s, _ in variables),
    }


configs = {
    "highres3dnet": highres3dnet(1, 3),
    "highres3dnet_small": highres3dnet(1, 3, "small"),
    "highres3dnet_large": highres3dnet(1, 3, "large"),
    "unet": unet3d(1, 2),
    "unet_2d": unet2d(1, 2),
    "vnet": vnet(1, 2),
    "vnet_2ch": vnet(2, 2),
    "nonewnet": nonewnet(1, 2),
}
with open(sys.argv[1], "w") as fh:
    json.dump({name: summary(v) for name, v in configs.items()}, fh, indent=0)
