"""Reference normalised surface Dice (Nikolov et al. 2021) following MONAI's compute_surface_dice (use_subvoxels
False), written with numpy / scipy.ndimage only: edges = mask ^ binary_erosion(mask) (scipy's default cross
structure, outside = background), distances from distance_transform_edt(~other_edges, sampling=spacing) at each edge
voxel, NSD = (#d_pred<=tau + #d_ref<=tau) / (#edges_pred + #edges_ref); NaN when both masks are empty, 0 when one is.
Usage: evaluation_surface_dice.py OUT.json"""
import json
import sys

import numpy as np
from scipy import ndimage

TOLERANCES = [0.0, 0.5, 1.0, 1.7, 2.5, 4.0]


def blobs(rng, shape, n_labels, sigma):
    fields = np.stack([ndimage.gaussian_filter(rng.normal(size=shape), sigma) for _ in range(n_labels)])
    keep = fields.max(0) > np.quantile(fields.max(0), 0.5)
    return np.where(keep, fields.argmax(0) + 1, 0).astype(np.int32)


def perturb(rng, labels, sigma):
    seg = labels.copy()
    grow = ndimage.gaussian_filter(rng.normal(size=labels.shape), sigma) > 0.08
    seg[grow] = ndimage.grey_dilation(labels, size=(3,) * labels.ndim)[grow]
    seg[ndimage.gaussian_filter(rng.normal(size=labels.shape), sigma) > 0.12] = 0
    return seg


def nsd(pred, ref, spacing, tau):
    if not pred.any() and not ref.any():
        return float("nan")
    if not pred.any() or not ref.any():
        return 0.0
    ep = pred ^ ndimage.binary_erosion(pred)
    er = ref ^ ndimage.binary_erosion(ref)
    d_pred = ndimage.distance_transform_edt(~er, sampling=spacing)[ep]
    d_ref = ndimage.distance_transform_edt(~ep, sampling=spacing)[er]
    return float((np.sum(d_pred <= tau) + np.sum(d_ref <= tau)) / (d_pred.size + d_ref.size))


def case(seg, ref, spacing, labels):
    rows = {"foreground": [nsd(seg != 0, ref != 0, spacing, t) for t in TOLERANCES]}
    for v in labels:
        rows[str(v)] = [nsd(seg == v, ref == v, spacing, t) for t in TOLERANCES]
    rows = {k: [x if np.isfinite(x) else str(x) for x in v] for k, v in rows.items()}
    return {"shape": list(seg.shape), "spacing": list(spacing), "seg": seg.ravel().tolist(),
            "ref": ref.ravel().tolist(), "rows": rows}


def main():
    rng = np.random.default_rng(1612)
    out = {"tolerances": TOLERANCES}
    ref3 = blobs(rng, (12, 20, 18), 3, 2.0)
    seg3 = perturb(rng, ref3, 2.0)
    seg3[seg3 == 3] = 0  # label 3 only in the reference: NSD 0; label 4 in neither: NaN
    out["blobs3d"] = case(seg3, ref3, (2.0, 0.9, 0.7), [1, 2, 3, 4])
    ref2 = blobs(rng, (37, 30), 2, 2.5)
    out["blobs2d"] = case(perturb(rng, ref2, 2.5), ref2, (0.6, 1.3), [1, 2, 3])
    # A one-voxel-thick slab and a shifted copy: every voxel is a surface voxel (the face neighbours above and below
    # are outside), the case where cropping to a bounding box and squeezing would change the answer.
    slab_ref = np.zeros((5, 9, 8), np.int32); slab_ref[2, 1:8, 1:7] = 1
    slab_seg = np.zeros((5, 9, 8), np.int32); slab_seg[3, 2:8, 1:6] = 1
    out["slab"] = case(slab_seg, slab_ref, (1.5, 1.0, 1.0), [1])
    with open(sys.argv[1], "w") as f:
        json.dump(out, f)


main()
