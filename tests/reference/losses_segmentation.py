"""Reference values and gradients (w.r.t. logits) of the segmentation losses, NiftyNet 0.6 formulas written
independently in PyTorch float64 autograd. Usage: losses_segmentation.py OUT.json"""
import json
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)
EPS = 1e-5
M_TREE = np.array([[0, 1, 1, 1, 1], [1, 0, .6, .2, .5], [1, .6, 0, .6, .7], [1, .2, .6, 0, .5], [1, .5, .7, .5, 0]])


def one_hot(labels, c):
    return torch.nn.functional.one_hot(torch.as_tensor(labels, dtype=torch.long), c).double()


def xent(logits, lab, w):
    e = -(one_hot(lab, logits.shape[1]) * torch.log_softmax(logits, -1)).sum(-1)
    return e.mean() if w is None else (e * w).sum() / max(w.sum(), 1e-6)


def vsum(x, w):
    return (x if w is None else x * w[:, None]).sum(0)


def dice(p, lab, w, squared):
    g = one_hot(lab, p.shape[1])
    num = 2 * vsum(g * p, w)
    den = vsum(p * p if squared else p, w) + vsum(g, w)
    return 1 - ((num + EPS) / (den + EPS)).mean()


def dice_dense(p, g, squared):
    num = 2 * (p * g).sum(0)
    den = ((p * p).sum(0) + (g * g).sum(0)) if squared else (p.sum(0) + g.sum(0))
    return 1 - ((num + EPS) / (den + EPS)).mean()


def tversky(p, lab, w, alpha=0.5, beta=0.5):
    g = one_hot(lab, p.shape[1])
    ww = 1 if w is None else w[:, None]
    tp = (ww * p * g).sum()
    fp = alpha * (ww * p * (1 - g)).sum()
    fn = beta * (ww * (1 - p) * g).sum()
    return 1 - tp / (tp + fp + fn + EPS)


def gdsc(p, lab, w, kind):
    g = one_hot(lab, p.shape[1])
    ref = vsum(g, w)
    inter = vsum(g * p, w)
    seg = vsum(p, w)
    wt = {"square": 1 / ref**2, "simple": 1 / ref, "uniform": torch.ones_like(ref)}[kind]
    finite = torch.isfinite(wt)
    fill = wt[finite].max() if finite.any() else torch.tensor(0.)
    wt = torch.where(finite, wt, fill)
    return 1 - 2 * (wt * inter).sum() / (wt * torch.clamp(seg + ref, min=1)).sum()


def wgdl(p, lab, m):
    c = p.shape[1]
    m = torch.tensor(m[:c, :c])
    lab = torch.as_tensor(lab, dtype=torch.long)
    delta = (p * m[:, lab].T).sum(1)  # delta_n = sum_i p_ni M[i, label_n]
    tp = (m[0, lab] * (1 - delta)).sum()
    return 1 - 2 * tp / (2 * tp + delta.sum())


def sensspec(p, lab, r=0.05):
    g = one_hot(lab, p.shape[1])
    e = (g - p) ** 2
    return (r * (e * g).sum(0) / (g.sum(0) + EPS) + (1 - r) * (e * (1 - g)).sum(0) / ((1 - g).sum(0) + EPS)).sum()


def volenf(p, lab, w, eps=1e-3):
    g = one_hot(lab, p.shape[1])
    r = vsum(g, w) + eps
    s = vsum(p, w) + eps
    return (r / s - s / r).abs().mean()


def dice_plus_xent(logits, lab, w):
    p = torch.softmax(logits, -1)
    g = one_hot(lab, p.shape[1])
    d = (2 * vsum(g * p, w) + EPS) / (vsum(p, w) + vsum(g, w) + EPS)
    return xent(logits, lab, w) - d.mean()


SOFTMAXED = {
    "Dice": lambda p, l, w, g: dice(p, l, w, True),
    "Dice_NS": lambda p, l, w, g: dice(p, l, w, False),
    "Tversky": lambda p, l, w, g: tversky(p, l, w),
    "GDSC": lambda p, l, w, g: gdsc(p, l, w, "square"),
    "GDSC_simple": lambda p, l, w, g: gdsc(p, l, w, "simple"),
    "GDSC_uniform": lambda p, l, w, g: gdsc(p, l, w, "uniform"),
    "WGDL": lambda p, l, w, g: wgdl(p, l, M_TREE),
    "SensSpec": lambda p, l, w, g: sensspec(p, l),
    "VolEnforcement": lambda p, l, w, g: volenf(p, l, w),
    "Dice_Dense": lambda p, l, w, g: dice_dense(p, g, True),
    "Dice_Dense_NS": lambda p, l, w, g: dice_dense(p, g, False),
}
ON_LOGITS = {
    "CrossEntropy": lambda x, l, w, g: xent(x, l, w),
    "CrossEntropy_Dense": lambda x, l, w, g: -(g * torch.log_softmax(x, -1)).sum(-1).mean(),
    "DicePlusXEnt": lambda x, l, w, g: dice_plus_xent(x, l, w),
}
WEIGHTED = {"Dice", "Dice_NS", "Tversky", "GDSC", "GDSC_simple", "GDSC_uniform", "VolEnforcement", "CrossEntropy",
            "DicePlusXEnt"}


def case(rng, shape, c):
    logits = rng.normal(0, 1.5, shape + [c])
    labels = rng.integers(0, c, shape)
    labels[0][labels[0] == c - 1] = 0  # class c-1 empty in the first batch element
    weights = rng.uniform(0.1, 2, shape)
    dense = torch.softmax(torch.tensor(rng.normal(0, 1, shape + [c])), -1).numpy()
    out = {"shape": shape + [c], "logits": logits.ravel().tolist(), "labels": labels.ravel().tolist(),
           "weights": weights.ravel().tolist(), "dense": dense.ravel().tolist(), "losses": {}}
    b, n = shape[0], int(np.prod(shape[1:]))
    for name in list(SOFTMAXED) + list(ON_LOGITS):
        for weighted in ([False, True] if name in WEIGHTED else [False]):
            x = torch.tensor(logits.reshape(b, n, c), requires_grad=True)
            per = []
            for i in range(b):
                lab = labels.reshape(b, n)[i]
                w = torch.tensor(weights.reshape(b, n)[i]) if weighted else None
                g = torch.tensor(dense.reshape(b, n, c)[i])
                if name in SOFTMAXED:
                    per.append(SOFTMAXED[name](torch.softmax(x[i], -1), lab, w, g))
                else:
                    per.append(ON_LOGITS[name](x[i], lab, w, g))
            loss = torch.stack(per).mean()
            loss.backward()
            key = name + ("+w" if weighted else "")
            out["losses"][key] = {"value": loss.item(), "grad": x.grad.numpy().ravel().tolist()}
    return out


def main():
    rng = np.random.default_rng(20261129)
    result = {"case2d": case(rng, [2, 4, 5], 3), "case3d": case(rng, [2, 3, 2, 3], 4)}
    with open(sys.argv[1], "w") as f:
        json.dump(result, f)


main()
