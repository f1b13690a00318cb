"""Reference values and gradients of the regression, classification, GAN and autoencoder losses (NiftyNet 0.6
formulas written independently in PyTorch float64 autograd). Usage: losses_regression.py OUT.json"""
import json
import math
import sys

import numpy as np
import torch

torch.set_default_dtype(torch.float64)


def wmean(x, w):
    return x.mean() if w is None else (x * w).sum() / w.sum()


def l2(p, t, w):
    r = p - t if w is None else (p - t) * w / w.sum()
    return (r * r).sum() / 2


def huber(p, t, w, delta=1.0):
    a = (p - t).abs()
    return wmean(torch.where(a > delta, delta * (a - delta / 2), 0.5 * a * a), w)


def smooth_l1(p, t, w, thresh=0.5):
    lo, hi = min(thresh, 1 / thresh), max(thresh, 1 / thresh)
    a = (p - t).abs()
    a = torch.where(a < lo, lo * a * a, a + lo**3 - lo)
    a = torch.where(a > hi, a * a + hi - hi * hi, a)
    return wmean(a, w)


def cosine(p, t, w):
    def unit(v):
        extra = torch.sqrt(1 - torch.clamp((v * v).sum(-1, keepdim=True), max=1))
        v = torch.cat([v, extra], -1)
        return v / torch.clamp(v.norm(dim=-1, keepdim=True), min=1e-5)
    return wmean(1 - (unit(p) * unit(t)).sum(-1), w)


REGRESSION = {
    "L1Loss": lambda p, t, w: wmean((p - t).abs(), w),
    "L2Loss": l2,
    "RMSE": lambda p, t, w: torch.sqrt(wmean((p - t) ** 2, w)),
    "MAE": lambda p, t, w: wmean((p - t).abs(), w),
    "Huber": huber,
    "SmoothL1": smooth_l1,
}


def batch_loss(fn, pred, target, weights):
    x = torch.tensor(pred, requires_grad=True)
    losses = [fn(x[b], torch.tensor(target[b]), None if weights is None else torch.tensor(weights[b]))
              for b in range(pred.shape[0])]
    loss = torch.stack(losses).mean()
    loss.backward()
    return {"value": loss.item(), "grad": x.grad.numpy().ravel().tolist()}


def main():
    rng = np.random.default_rng(61129)
    out = {}
    # Regression: batch 2, 3x4x2 volumes; residuals spread over [-4, 4] to reach every piece of Huber / SmoothL1.
    target = rng.normal(0, 1, (2, 3, 4, 2))
    pred = target + rng.uniform(-4, 4, target.shape)
    weights = rng.uniform(0, 2, target.shape)
    reg = {"shape": list(target.shape), "pred": pred.ravel().tolist(), "target": target.ravel().tolist(),
           "weights": weights.ravel().tolist(), "losses": {}}
    for name, fn in REGRESSION.items():
        for weighted in (False, True):
            key = name + ("+w" if weighted else "")
            reg["losses"][key] = batch_loss(fn, pred.reshape(2, -1), target.reshape(2, -1),
                                            weights.reshape(2, -1) if weighted else None)
    out["regression"] = reg
    # Cosine: batch 2, 3x2 voxels of 3-vectors, some longer than 1 (their completion is 0).
    vt = rng.normal(0, 0.5, (2, 3, 2, 3))
    vp = vt + rng.normal(0, 0.4, vt.shape)
    vw = rng.uniform(0.5, 1.5, (2, 3, 2))
    cos = {"shape": list(vt.shape), "pred": vp.ravel().tolist(), "target": vt.ravel().tolist(),
           "weights": vw.ravel().tolist(), "losses": {}}
    for weighted in (False, True):
        cos["losses"]["Cosine" + ("+w" if weighted else "")] = batch_loss(
            cosine, vp.reshape(2, -1, 3), vt.reshape(2, -1, 3), vw.reshape(2, -1) if weighted else None)
    out["cosine"] = cos
    # Classification: 5 samples, 4 classes.
    logits = rng.normal(0, 2, (5, 4))
    labels = rng.integers(0, 4, 5)
    x = torch.tensor(logits, requires_grad=True)
    ce = torch.nn.functional.cross_entropy(x, torch.tensor(labels))
    ce.backward()
    out["classification"] = {"logits": logits.ravel().tolist(), "labels": labels.tolist(), "value": ce.item(),
                             "grad": x.grad.numpy().ravel().tolist()}
    # GAN: discriminator logits on real and fake images, batch 3 of 2x2.
    real, fake = rng.normal(0, 2, (3, 2, 2, 1)), rng.normal(0, 2, (3, 2, 2, 1))
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    tr, tf_ = torch.tensor(real, requires_grad=True), torch.tensor(fake, requires_grad=True)
    g = bce(tf_, torch.ones_like(tf_))
    d = bce(tf_, torch.zeros_like(tf_)) + bce(tr, 0.9 * torch.ones_like(tr))
    d.backward()
    out["gan"] = {"shape": list(real.shape), "real": real.ravel().tolist(), "fake": fake.ravel().tolist(),
                  "generator": g.item(), "discriminator": d.item(), "d_grad_real": tr.grad.numpy().ravel().tolist()}
    # VAE lower bound: latent [2, 3], data [2, 2, 2, 1].
    mu, logvar = rng.normal(0, 1, (2, 3)), rng.normal(0, 0.5, (2, 3))
    dm, dlv, orig = rng.normal(0, 1, (2, 2, 2, 1)), rng.normal(0, 0.5, (2, 2, 2, 1)), rng.normal(0, 1, (2, 2, 2, 1))
    tmu = torch.tensor(mu, requires_grad=True)
    ll = -0.5 * (torch.tensor(dlv) + 1.837877 + torch.exp(-torch.tensor(dlv)) * (torch.tensor(dm) - torch.tensor(orig)) ** 2)
    ll = ll.reshape(2, -1).sum(1)
    kl = -0.5 * (1 + torch.tensor(logvar) - tmu**2 - torch.exp(torch.tensor(logvar))).sum(1)
    vlb = (kl - ll).mean()
    vlb.backward()
    out["vae"] = {"mu": mu.ravel().tolist(), "logvar": logvar.ravel().tolist(), "data_mean": dm.ravel().tolist(),
                  "data_logvar": dlv.ravel().tolist(), "originals": orig.ravel().tolist(), "value": vlb.item(),
                  "grad_mu": tmu.grad.numpy().ravel().tolist()}
    assert math.isfinite(vlb.item())
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)


main()
