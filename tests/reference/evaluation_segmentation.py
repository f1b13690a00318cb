"""Reference segmentation metrics from numpy / scipy.ndimage / scikit-image on random blob label maps with
anisotropic spacing. Surfaces: mask & ~binary_erosion(mask, generate_binary_structure(ndim, 1), border_value=0);
distances from distance_transform_edt(sampling=spacing). Usage: evaluation_segmentation.py OUT.json"""
import json
import sys

import numpy as np
from scipy import ndimage
from skimage.metrics import hausdorff_distance

NAN = float("nan")


def blobs(rng, shape, n_labels, sigma):
    """Label map: smoothed noise fields, each label where its field is highest and above a threshold."""
    fields = np.stack([ndimage.gaussian_filter(rng.normal(size=shape), sigma) for _ in range(n_labels)])
    best = fields.argmax(0)
    keep = fields.max(0) > np.quantile(fields.max(0), 0.55)
    return np.where(keep, best + 1, 0).astype(np.int32)


def perturb(rng, labels, shape, sigma):
    """A plausible segmentation: the reference with a smoothly varying boundary shift and some relabelling."""
    seg = labels.copy()
    noise = ndimage.gaussian_filter(rng.normal(size=shape), sigma) > 0.08
    grown = ndimage.grey_dilation(labels, size=(3,) * len(shape))
    seg[noise] = grown[noise]
    seg[ndimage.gaussian_filter(rng.normal(size=shape), sigma) > 0.12] = 0
    return seg


def surf(mask):
    structure = ndimage.generate_binary_structure(mask.ndim, 1)
    return mask & ~ndimage.binary_erosion(mask, structure, border_value=0)


def metrics(seg, ref, spacing):
    tp = float(np.sum(seg & ref)); fp = float(np.sum(seg & ~ref)); fn = float(np.sum(~seg & ref))
    tn = float(np.sum(~seg & ~ref))
    div = lambda a, b: a / b if b else NAN
    out = {
        "tp": tp, "fp": fp, "fn": fn, "tn": tn, "n_pos_ref": tp + fn, "n_neg_ref": tn + fp, "n_pos_seg": tp + fp,
        "n_neg_seg": tn + fn, "n_union": tp + fp + fn,
        "dice": 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else 1.0,
        "jaccard": tp / (tp + fp + fn) if tp + fp + fn else 1.0,
        "sensitivity": div(tp, tp + fn), "specificity": div(tn, tn + fp), "accuracy": (tp + tn) / seg.size,
        "false_positive_rate": div(fp, fp + tn), "positive_predictive_values": div(tp, tp + fp),
        "negative_predictive_values": div(tn, tn + fn),
        "vol_diff": (tp + fp) / (tp + fn) if tp + fn else (1.0 if tp + fp == 0 else float("inf")),
    }
    out["informedness"] = out["sensitivity"] + out["specificity"] - 1
    out["markedness"] = out["positive_predictive_values"] + out["negative_predictive_values"] - 1
    if not seg.any() and not ref.any():
        dist = {"hausdorff_distance": 0.0, "hausdorff95_distance": 0.0, "average_distance": 0.0, "com_distance": 0.0}
    elif not seg.any() or not ref.any():
        inf = float("inf")
        dist = {"hausdorff_distance": inf, "hausdorff95_distance": inf, "average_distance": inf, "com_distance": inf}
    else:
        s, r = surf(seg), surf(ref)
        to_ref = ndimage.distance_transform_edt(~r, sampling=spacing)[s]
        to_seg = ndimage.distance_transform_edt(~s, sampling=spacing)[r]
        com = (np.array(ndimage.center_of_mass(seg)) - np.array(ndimage.center_of_mass(ref))) * np.array(spacing)
        dist = {
            "hausdorff_distance": float(max(to_ref.max(), to_seg.max())),
            "hausdorff95_distance": float(max(np.percentile(to_ref, 95), np.percentile(to_seg, 95))),
            "average_distance": float((to_ref.sum() + to_seg.sum()) / (to_ref.size + to_seg.size)),
            "com_distance": float(np.linalg.norm(com)),
        }
    out.update(dist)
    return {k: (v if np.isfinite(v) else str(v)) for k, v in out.items()}


def cc_rows(seg, ref, spacing):
    """NiftyNet's rule (each reference component with the union of overlapping seg components) plus a row per
    unmatched seg component."""
    s_lab, s_n = ndimage.label(seg != 0)
    r_lab, r_n = ndimage.label(ref != 0)
    rows, matched = {}, set()
    for k in range(1, r_n + 1):
        ids = sorted(int(i) for i in np.unique(s_lab[r_lab == k]) if i)
        matched.update(ids)
        rows[f"r{k}_s{'&'.join(map(str, ids))}"] = metrics(np.isin(s_lab, ids), r_lab == k, spacing)
    for j in range(1, s_n + 1):
        if j not in matched:
            rows[f"r_s{j}"] = metrics(s_lab == j, np.zeros_like(ref, bool), spacing)
    return rows


def case(rng, shape, spacing, sigma):
    ref = blobs(rng, shape, 3, sigma)
    seg = perturb(rng, ref, shape, sigma)
    seg[seg == 3] = 0  # label 3 present in the reference only: empty segmentation
    rows = {"foreground": metrics(seg != 0, ref != 0, spacing)}
    for v in range(1, 5):  # label 4 is empty in both
        rows[str(v)] = metrics(seg == v, ref == v, spacing)
    return {"shape": list(shape), "spacing": list(spacing), "seg": seg.ravel().tolist(), "ref": ref.ravel().tolist(),
            "rows": rows, "cc": cc_rows(seg, ref, spacing),
            "components": {"ref_labels": ndimage.label(ref != 0)[0].ravel().tolist(),
                           "ref_full_count": int(ndimage.label(ref != 0, np.ones((3,) * len(shape)))[1])}}


def main():
    rng = np.random.default_rng(1129)
    out = {"blobs3d": case(rng, (18, 22, 12), (0.8, 0.8, 2.0), 2.0),
           "blobs2d": case(rng, (40, 33), (1.3, 0.7), 2.5)}
    # Isotropic check against scikit-image's point-set Hausdorff distance on the surfaces.
    c = out["blobs3d"]
    seg = np.array(c["seg"]).reshape(c["shape"]) != 0
    ref = np.array(c["ref"]).reshape(c["shape"]) != 0
    out["skimage_hausdorff_isotropic"] = float(hausdorff_distance(surf(seg), surf(ref)))
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)


main()
