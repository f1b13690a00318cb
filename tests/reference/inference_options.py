"""References for the inference options, written with numpy / scipy.ndimage only.

- blending: windows on a grid (step floor((window - 2*border)*(1 - overlap)), the last window flush with the end, a
  middle one added when an axis has exactly two starts, rounded half to even), each window's output = the volume's
  window + 0.1*(window number) so that overlaps disagree; the region (window minus border) blended with uniform
  weights or a separable Gaussian (sigma = region/8, floored at 1e-6), and NiftyNet's grid rule (later windows
  overwrite) for comparison.
- flips: a position-dependent toy network (logits = x @ W + ramp), run on every subset of the flip axes with
  np.flip, flipped back; softmax per pass; log of the mean probability, population variance over passes averaged
  over classes, entropy of the mean probability.
- post-processing: largest component per label / of the foreground (scipy.ndimage.label, full connectivity,
  np.argmax of sizes: the first-numbered on ties), then holes per label (binary_fill_holes, background voxels only).
Usage: inference_options.py OUT.json"""
import itertools
import json
import sys

import numpy as np
from scipy import ndimage


def starts_1d(n, window, step):
    pts = list(range(0, n - window + 1, max(step, 1))) + [max(n - window, 0)]
    pts = sorted(set(pts))
    if len(pts) == 2:
        mid = int(np.round((pts[0] + pts[1]) / 2))
        if mid not in pts:
            pts.append(mid)
    return pts


def gaussian(extent):
    axes = []
    for n in extent:
        i = np.arange(n)
        axes.append(np.ones(1) if n == 1 else np.exp(-((i - (n - 1) / 2) ** 2) / (2 * (n / 8) ** 2)))
    w = axes[0][:, None, None] * axes[1][None, :, None] * axes[2][None, None, :]
    return np.maximum(w, 1e-6)


def blending(rng):
    shape, window, border, overlap = (11, 9, 7), (6, 6, 4), 1, 0.5
    vol = rng.normal(size=shape + (2,))  # [x, y, z, c]
    axes = [starts_1d(shape[d], window[d], int(np.floor((window[d] - 2 * border) * (1 - overlap)))) for d in range(3)]
    starts = [(x, y, z) for y in axes[1] for x in axes[0] for z in axes[2]]  # NiftyNet's order: y, x, z
    out = {}
    for mode in ["none", "constant", "gaussian"]:
        acc = np.zeros(shape + (2,)); wsum = np.zeros(shape); grid = np.zeros(shape + (2,))
        for k, s in enumerate(starts):
            sl = tuple(slice(s[d] + border, s[d] + window[d] - border) for d in range(3))
            region = vol[sl] + 0.1 * k
            ext = region.shape[:3]
            w = np.ones(ext) if mode != "gaussian" else gaussian(ext)
            acc[sl] += w[..., None] * region
            wsum[sl] += w
            grid[sl] = region
        result = grid if mode == "none" else np.where(wsum[..., None] > 0, acc / np.maximum(wsum, 1e-300)[..., None], 0)
        out[mode] = result.transpose(3, 2, 1, 0).ravel().tolist()  # channel-major, x fastest
    return {"shape": list(shape), "window": list(window), "border": border, "overlap": overlap,
            "volume": vol.transpose(3, 2, 1, 0).ravel().tolist(), "starts": [list(s) for s in starts], "blended": out}


def toy_net(x, W, ramp):
    return x @ W + ramp  # x [b, X, Y, Z, cin], W [cin, classes], ramp [X, Y, Z, classes]


def flips(rng):
    shape, cin, classes = (6, 5, 4), 2, 3
    x = rng.normal(size=(2,) + shape + (cin,))
    W = rng.normal(size=(cin, classes))
    ramp = rng.normal(size=shape + (classes,)) * 1.5
    axes = [0, 1, 2]
    probs = []
    for m in range(1 << len(axes)):
        combo = tuple(a + 1 for i, a in enumerate(axes) if (m >> i) & 1)
        xi = np.flip(x, combo) if combo else x
        yi = toy_net(xi, W, ramp)
        yi = np.flip(yi, combo) if combo else yi
        e = np.exp(yi - yi.max(-1, keepdims=True))
        probs.append(e / e.sum(-1, keepdims=True))
    p = np.stack(probs)
    mean = p.mean(0)
    variance = ((p - mean) ** 2).mean(0).mean(-1, keepdims=True)
    entropy = -(np.where(mean > 0, mean * np.log(np.maximum(mean, 1e-300)), 0)).sum(-1, keepdims=True)
    # Raw outputs (no softmax): the mean and the variance of the outputs themselves.
    raws = []
    for m in range(1 << 2):
        combo = tuple(a + 1 for i, a in enumerate([0, 2]) if (m >> i) & 1)
        xi = np.flip(x, combo) if combo else x
        yi = toy_net(xi, W, ramp)
        raws.append(np.flip(yi, combo) if combo else yi)
    r = np.stack(raws)
    return {"shape": list(shape), "cin": cin, "classes": classes, "x": x.ravel().tolist(), "W": W.ravel().tolist(),
            "ramp": ramp.ravel().tolist(), "log_mean": np.log(mean).ravel().tolist(),
            "variance": variance.ravel().tolist(), "entropy": entropy.ravel().tolist(),
            "raw_axes": [0, 2], "raw_mean": r.mean(0).ravel().tolist(),
            "raw_variance": ((r - r.mean(0)) ** 2).mean(0).mean(-1, keepdims=True).ravel().tolist()}


FULL = np.ones((3, 3, 3), bool)


def keep_largest(seg, mode, labels=None):
    seg = seg.copy()
    if mode == "foreground":
        lab, n = ndimage.label(seg != 0, FULL)
        if n:
            sizes = ndimage.sum(np.ones_like(lab), lab, range(1, n + 1))
            seg[(lab != 0) & (lab != 1 + int(np.argmax(sizes)))] = 0
        return seg
    for v in (labels if labels is not None else sorted(set(np.unique(seg)) - {0})):
        lab, n = ndimage.label(seg == v, FULL)
        if n > 1:
            sizes = ndimage.sum(np.ones_like(lab), lab, range(1, n + 1))
            seg[(lab != 0) & (lab != 1 + int(np.argmax(sizes)))] = 0
    return seg


def fill(seg, labels):
    seg = seg.copy()
    squeezed = seg.reshape([n for n in seg.shape if n != 1])
    for v in labels:
        holes = ndimage.binary_fill_holes(squeezed == v) & (squeezed == 0)
        squeezed[holes] = v
    return squeezed.reshape(seg.shape)


def noisy_labels(rng, shape):
    f = np.stack([ndimage.gaussian_filter(rng.normal(size=shape), 1.2) for _ in range(3)])
    seg = np.where(f.max(0) > 0.05, f.argmax(0) + 1, 0).astype(np.int32)
    seg[rng.random(shape) < 0.04] = 0  # pinholes: holes to fill
    return seg


def postprocess(rng):
    cases = {}
    for name, shape in [("3d", (10, 12, 14)), ("2d", (1, 18, 20))]:  # C order [z, y, x]
        seg = noisy_labels(rng, shape)
        present = sorted(int(v) for v in set(np.unique(seg)) - {0})
        cases[name] = {
            "shape": list(shape), "seg": seg.ravel().tolist(),
            "all_all": fill(keep_largest(seg, "per-label"), present).ravel().tolist(),
            "keep1_fill2": fill(keep_largest(seg, "per-label", [1]), [2]).ravel().tolist(),
            "foreground": keep_largest(seg, "foreground").ravel().tolist(),
            "fill_all": fill(seg, present).ravel().tolist(),
        }
        cases[name]["components_before"] = {str(v): int(ndimage.label(seg == v, FULL)[1]) for v in present}
    return cases


def main():
    rng = np.random.default_rng(1616)
    out = {"blending": blending(rng), "flips": flips(rng), "postprocess": postprocess(rng)}
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)


main()
