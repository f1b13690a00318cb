"""Reference for tests/io_nifti_read_test.ts: what nibabel reads from every file in its own tests/data folder.

For each file nibabel loads we record the image class, shape, on-disk dtype, the dtype and checksums of the scaled
data (sum, sum of squares, min, max, 16 voxels at fixed Fortran-order flat indices), the affine, zooms, axcodes and
sform/qform codes. Files nibabel cannot load are listed with its error. Run:
/usr/bin/python3 tests/reference/io_nibabel_files.py tests/fixtures/io_nibabel_files.json
"""
import json
import os
import sys

import nibabel as nib
import numpy as np

DATA = os.path.join(os.path.dirname(nib.__file__), "tests", "data")
NIFTI_CLASSES = {"Nifti1Image", "Nifti2Image", "Nifti1Pair", "Nifti2Pair", "AnalyzeImage", "Spm99AnalyzeImage",
                 "Spm2AnalyzeImage"}


def checksums(arr):
    a = np.asarray(arr)
    flat = a.reshape(-1, order="F").astype(np.float64)
    idx = np.linspace(0, flat.size - 1, 16).astype(np.int64)
    finite = flat[np.isfinite(flat)]
    return {
        "nan_count": int(np.isnan(flat).sum()),
        "dtype": str(a.dtype.newbyteorder("=")) if a.dtype.byteorder != "|" else str(a.dtype),
        "sum": float(finite.sum()),
        "sumsq": float((finite * finite).sum()),
        "min": float(finite.min()),
        "max": float(finite.max()),
        "sample_index": [int(i) for i in idx],
        "sample_value": [float(flat[i]) if np.isfinite(flat[i]) else None for i in idx],
    }


def describe(img):
    hdr = img.header
    out = {
        "class": type(img).__name__,
        "shape": [int(s) for s in img.shape],
        "disk_dtype": np.dtype(img.get_data_dtype()).newbyteorder("=").name,
        "affine": img.affine.tolist(),
        "zooms": [float(z) for z in hdr.get_zooms()],
        "axcodes": "".join(nib.aff2axcodes(img.affine)),
    }
    slope, inter = getattr(img.dataobj, "slope", 1.0), getattr(img.dataobj, "inter", 0.0)
    out["slope"] = float(slope)
    out["inter"] = float(inter)
    if "sform_code" in hdr:
        out["sform_code"] = int(hdr["sform_code"])
        out["qform_code"] = int(hdr["qform_code"])
    try:
        out["data"] = checksums(img.dataobj)
    except Exception as e:  # header-only pairs (no .img shipped)
        out["data"] = None
        out["data_error"] = type(e).__name__
    return out


def main(path):
    files = []
    for name in sorted(os.listdir(DATA)):
        full = os.path.join(DATA, name)
        if not os.path.isfile(full):
            continue
        entry = {"name": name}
        try:
            img = nib.load(full)
            if type(img).__name__ == "Cifti2Image":  # NIfTI-2 underneath; nibabel reads its NIfTI view too
                entry["cifti"] = True
                img = nib.Nifti2Image.from_filename(full)
            entry["loaded"] = True
            if type(img).__name__ in NIFTI_CLASSES:
                entry.update(describe(img))
            else:
                entry["class"] = type(img).__name__
        except Exception as e:
            entry["loaded"] = False
            entry["error"] = type(e).__name__
        files.append(entry)
    with open(path, "w") as f:
        json.dump({"nibabel_version": nib.__version__, "data_dir": DATA, "files": files}, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
