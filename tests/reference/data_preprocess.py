"""Reference values for the data preprocessing layers: numpy.pad in every mode, Otsu threshold and foreground masks
(scipy.ndimage dilation + hole filling), masked whitening, Nyul histogram landmarks (np.percentile) and the
piecewise-linear standardisation, percentile rescaling. Written independently from NiftyNet's documented rules.
Arrays are indexed [x, y, z] and stored flattened x-fastest (order="F"). Usage: data_preprocess.py OUT.json"""
import json
import sys

import numpy as np
import scipy.ndimage as ndi

rng = np.random.default_rng(20261129)


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).flatten(order="F")]


out = {}

# numpy.pad, sequential per axis, all modes; axis 1 pads past its length (reflect/symmetric/wrap repeat).
pad_in = rng.normal(size=(4, 2, 5)).astype(np.float32).astype(np.float64)
widths = ((2, 3), (3, 4), (1, 0))
out["pad"] = {"input": flat(pad_in), "shape": list(pad_in.shape), "before": [w[0] for w in widths],
              "after": [w[1] for w in widths], "modes": {}}
for mode in ["constant", "edge", "reflect", "symmetric", "wrap", "minimum", "maximum", "mean", "median"]:
    p = np.pad(pad_in, widths, mode=mode)
    out["pad"]["modes"][mode] = {"shape": list(p.shape), "data": flat(p)}


def otsu(img, nbins=256):
    """Otsu over numpy.histogram bins; returns the centre of the last bin of the lower class."""
    hist, edges = np.histogram(img.ravel(), bins=nbins)
    centres = edges[:-1] + (edges[1] - edges[0]) / 2
    w1 = np.cumsum(hist)
    m1 = np.cumsum(hist * centres)
    w2 = np.cumsum(hist[::-1])[::-1]
    m2 = np.cumsum((hist * centres)[::-1])[::-1]
    best, thr = 0.0, centres[0]
    for i in range(nbins - 1):
        with np.errstate(divide="ignore", invalid="ignore"):
            t = w1[i] * w2[i + 1] * (m1[i] / w1[i] - m2[i + 1] / w2[i + 1]) ** 2
        if t > best:
            best, thr = t, centres[i]
    return float(thr)


# A bright blob with a dark hole inside, on a noisy dark background.
shape = (12, 11, 9)
x, y, z = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
r = np.sqrt((x - 6) ** 2 + (y - 5) ** 2 + (z - 4) ** 2)
blob = np.where(r < 4.2, 100.0, 5.0) + rng.normal(scale=3.0, size=shape)
blob[(r < 1.5)] = 4.0
blob = blob.astype(np.float32).astype(np.float64)
masks = {}
for kind in ["otsu_plus", "otsu_minus", "threshold_plus", "threshold_minus", "mean_plus"]:
    thr = 50.0 if kind.startswith("threshold") else otsu(blob) if kind.startswith("otsu") else float(np.mean(blob))
    m = blob > thr if kind.endswith("plus") else blob < thr
    m = ndi.binary_fill_holes(ndi.binary_dilation(m, iterations=2))
    masks[kind] = {"threshold": thr, "mask": flat(m.astype(np.float64))}
out["mask"] = {"input": flat(blob), "shape": list(shape), "otsu": otsu(blob), "masks": masks, "fixed_threshold": 50.0}

# Whitening over the otsu_plus mask.
m = np.asarray(masks["otsu_plus"]["mask"]).reshape(shape, order="F") > 0
vals = blob[m]
out["whiten"] = {"mean": float(vals.mean()), "std": float(vals.std()), "output": flat((blob - vals.mean()) / max(vals.std(), 1e-5))}

# Nyul: three training images with masks, one image to standardise.
cut = [0.01, 0.99]
perc = [cut[0], 0.1, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.75, 0.8, 0.9, cut[1]]
train = []
for k in range(3):
    img = (rng.gamma(2.0 + k, 10.0 + 5 * k, size=150)).astype(np.float32).astype(np.float64)
    msk = (rng.uniform(size=150) > 0.2).astype(np.float64)
    train.append({"data": [float(v) for v in img], "mask": [float(v) for v in msk]})
land = np.array([np.percentile(np.array(t["data"])[np.array(t["mask"]) > 0], 100 * np.array(perc)) for t in train])
slope = 100.0 / (land[:, -1] - land[:, 0])
ref = slope.dot(land) / len(train) + np.mean(0.0 - slope * land[:, 0])
test_img = (rng.gamma(3.0, 12.0, size=200)).astype(np.float32).astype(np.float64)
subsets = {"quartile": [0, 3, 6, 9, 12], "percentile": [0, 1, 2, 4, 5, 6, 7, 8, 10, 11, 12], "median": [0, 6, 12]}
standardised = {}
for kind, idx in subsets.items():
    c0, c1 = (min(cut[0], 0.24), max(cut[1], 0.76)) if kind == "quartile" else (min(cut[0], 0.09), max(cut[1], 0.91))
    p = np.percentile(test_img, 100 * np.array([c0] + perc[1:-1] + [c1]))
    rp, rm = p[idx], ref[idx]
    a = (rm[1:] - rm[:-1]) / (rp[1:] - rp[:-1])
    b = rm[:-1] - a * rp[:-1]
    seg = np.digitize(test_img, rp[1:-1], right=False)
    standardised[kind] = [float(v) for v in a[seg] * test_img + b[seg]]
out["nyul"] = {"train": train, "landmarks_per_image": [[float(v) for v in l] for l in land],
               "reference": [float(v) for v in ref], "test": [float(v) for v in test_img], "standardised": standardised}

# Percentile rescaling to [0, 1] with clipping at the 2nd and 98th percentiles.
lo, hi = np.percentile(test_img, [2, 98])
out["rescale"] = {"lo": float(lo), "hi": float(hi), "output": [float(v) for v in (np.clip(test_img, lo, hi) - lo) / (hi - lo)]}

with open(sys.argv[1], "w") as f:
    json.dump(out, f)
