"""Reference for tests/io_geometry_test.ts: orientation (nibabel aff2axcodes / as_reoriented), resampling
(scipy.ndimage.affine_transform, nibabel.processing.resample_to_output) and conforming (nibabel.processing.conform)
on small seeded random volumes stored here. Run:
/usr/bin/python3 tests/reference/io_geometry.py tests/fixtures/io_geometry.json
"""
import json
import sys

import nibabel as nib
import nibabel.processing as nproc
import numpy as np
import scipy.ndimage as nd
from nibabel.orientations import axcodes2ornt, io_orientation, ornt_transform

rng = np.random.RandomState(7)


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).reshape(-1, order="F")]


def rot(ax, deg):
    t = np.deg2rad(deg)
    c, s = np.cos(t), np.sin(t)
    m = np.eye(3)
    i, j = [(1, 2), (0, 2), (0, 1)][ax]
    m[i, i], m[i, j], m[j, i], m[j, j] = c, -s, s, c
    return m


def affine(rz, zooms, t):
    a = np.eye(4)
    a[:3, :3] = rz @ np.diag(zooms)
    a[:3, 3] = t
    return a


def main(path):
    vol = rng.randn(5, 6, 7)
    out = {"volume": {"shape": [5, 6, 7], "data": flat(vol)}}

    # scipy.ndimage.affine_transform, mode constant, on three maps incl. partly outside the input.
    transforms = []
    for label, m, off in [
        ("scale", np.diag([0.7, 1.3, 0.9]), [0.2, -0.1, 0.5]),
        ("oblique", rot(2, 20) @ rot(0, 10) @ np.diag([0.8, 0.9, 1.1]), [0.5, -0.7, 0.3]),
        ("identity", np.eye(3), [0.0, 0.0, 0.0]),
    ]:
        entry = {"name": label, "matrix": m.tolist(), "offset": off, "out_shape": [6, 5, 7]}
        for order in (0, 1, 3):
            entry[f"order{order}"] = flat(nd.affine_transform(vol, m, off, output_shape=(6, 5, 7), order=order,
                                                            mode="constant", cval=0.0))
        transforms.append(entry)
    out["affine_transform"] = transforms

    # nibabel.processing.resample_to_output on an axis-aligned RAS image (our pixdim grid equals nibabel's there).
    ras = affine(np.eye(3), [2.0, 2.5, 3.0], [-4.0, 3.0, 10.0])
    img = nib.Nifti1Image(vol, ras)
    res = []
    for order in (0, 1, 3):
        r = nproc.resample_to_output(img, voxel_sizes=(1.5, 1.25, 2.0), order=order)
        res.append({"order": order, "shape": list(r.shape), "affine": r.affine.tolist(), "data": flat(r.dataobj)})
    out["resample_to_output"] = {"affine": ras.tolist(), "pixdim": [1.5, 1.25, 2.0], "results": res}

    # Oblique LAS image: our grid rule (voxel 0 fixed, axes kept, ceil((n-1)*zoom/p)+1) sampled by scipy.
    obl = affine(rot(2, 15) @ rot(1, -8) @ np.diag([-1, 1, 1]), [1.8, 2.2, 2.6], [30.0, -20.0, 5.0])
    pix = np.array([1.0, 1.5, 2.0])
    zooms = np.sqrt((obl[:3, :3] ** 2).sum(0))
    shape = np.ceil((np.array(vol.shape) - 1) * zooms / pix).astype(int) + 1
    out_aff = obl.copy()
    out_aff[:3, :3] = obl[:3, :3] * (pix / zooms)
    vox = np.linalg.inv(obl) @ out_aff
    # Coordinates within 1e-9 of the input's edge are snapped onto it (our documented rule; scipy's own answer
    # there depends on rounding noise), then sampled with scipy's map_coordinates.
    grid = np.indices(tuple(shape)).reshape(3, -1).astype(np.float64)
    coords = vox[:3, :3] @ grid + vox[:3, 3:4]
    for ax, n in enumerate(vol.shape):
        c = coords[ax]
        c[(c < 0) & (c > -1e-9)] = 0
        c[(c > n - 1) & (c < n - 1 + 1e-9)] = n - 1
    obl_res = []
    for order in (0, 1, 3):
        d = nd.map_coordinates(vol, coords, order=order, mode="constant", cval=0.0).reshape(tuple(shape))
        obl_res.append({"order": order, "data": flat(d)})
    out["oblique_pixdim"] = {"affine": obl.tolist(), "pixdim": pix.tolist(), "shape": shape.tolist(),
                             "out_affine": out_aff.tolist(), "results": obl_res}

    # Orientation: axcodes of assorted affines, and reorientation of the oblique image to several codes.
    affs = [obl, ras, affine(rot(0, 90) @ rot(2, 44), [1, 2, 3], [0, 0, 0]),
            affine(rot(1, 135) @ np.diag([1, -1, 1]), [0.5, 0.5, 4], [1, 2, 3]),
            affine(np.eye(3)[[2, 0, 1]] * [[-1], [1], [-1]], [1, 1, 1], [0, 0, 0])]
    out["axcodes"] = [{"affine": a.tolist(), "axcodes": "".join(nib.aff2axcodes(a))} for a in affs]
    reo = []
    img = nib.Nifti1Image(vol, affs[2])
    for codes in ("RAS", "LIA", "PSL", "ILA"):
        t = ornt_transform(io_orientation(img.affine), axcodes2ornt(codes))
        r = img.as_reoriented(t)
        reo.append({"axcodes": codes, "shape": list(r.shape), "affine": r.affine.tolist(), "data": flat(r.dataobj)})
    out["reorient"] = {"affine": affs[2].tolist(), "results": reo}

    # nibabel.processing.conform (3D; out_shape 8x9x10 at 1.5 mm) of the oblique image.
    img = nib.Nifti1Image(vol, obl)
    conf = []
    for codes, order in (("RAS", 1), ("LIA", 3), ("LIA", 0)):
        c = nproc.conform(img, out_shape=(8, 9, 10), voxel_size=(1.5, 1.5, 1.5), order=order, orientation=codes)
        conf.append({"axcodes": codes, "order": order, "shape": list(c.shape), "affine": c.affine.tolist(),
                     "data": flat(c.dataobj)})
    out["conform"] = {"affine": obl.tolist(), "out_shape": [8, 9, 10], "voxel": 1.5, "results": conf}
    with open(path, "w") as f:
        json.dump(out, f)


if __name__ == "__main__":
    main(sys.argv[1])
