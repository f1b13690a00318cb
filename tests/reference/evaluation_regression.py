"""Reference regression metrics (numpy, skimage.metrics psnr / structural_similarity with defaults and an explicit
data_range) and classification metrics (accuracy, ROC AUC by counting all positive/negative pairs).
Usage: evaluation_regression.py OUT.json"""
import json
import sys

import numpy as np
from scipy import ndimage
from skimage.metrics import peak_signal_noise_ratio, structural_similarity


def case(rng, shape):
    ref = ndimage.gaussian_filter(rng.normal(size=shape), 1.5) * 100 + 40
    seg = ref + rng.normal(0, 3, shape) + ndimage.gaussian_filter(rng.normal(size=shape), 2) * 20
    dr = float(ref.max() - ref.min())
    mse = float(np.mean((seg - ref) ** 2))
    return {"shape": list(shape), "seg": seg.ravel().tolist(), "ref": ref.ravel().tolist(), "data_range": dr,
            "mse": mse, "rmse": float(np.sqrt(mse)), "mae": float(np.mean(np.abs(seg - ref))),
            "psnr": float(peak_signal_noise_ratio(ref, seg, data_range=dr)),
            "ssim": float(structural_similarity(seg, ref, data_range=dr)),
            "ssim_range_50": float(structural_similarity(seg, ref, data_range=50.0))}


def main():
    rng = np.random.default_rng(29)
    out = {"volume3d": case(rng, (11, 9, 13)), "image2d": case(rng, (24, 17))}
    scores = np.round(rng.uniform(0, 1, 40), 1)  # rounded: ties
    truth = (rng.uniform(0, 1, 40) < scores).astype(int)
    pos, neg = scores[truth == 1], scores[truth == 0]
    auc = float(np.mean((pos[:, None] > neg[None, :]) + 0.5 * (pos[:, None] == neg[None, :])))
    predicted = (scores > 0.5).astype(int)
    out["classification"] = {"scores": scores.tolist(), "truth": truth.tolist(), "roc_auc": auc,
                             "predicted": predicted.tolist(), "accuracy": float(np.mean(predicted == truth))}
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)


main()
