"""Reference for tests/io_nifti_synthetic_test.ts: small NIfTI files written by nibabel that cover what the files in
nibabel's tests/data do not (every datatype, big endian, scaling rules, qform-only affines incl. 180° rotations,
2D and 5D, extensions, NIfTI-2, .hdr/.img pairs), stored as base64 with what nibabel reads back from them.
Run: /usr/bin/python3 tests/reference/io_nifti_synthetic.py tests/fixtures/io_nifti_synthetic.json
"""
import base64
import gzip
import io
import json
import sys

import nibabel as nib
import numpy as np

rng = np.random.RandomState(3)


def qform_affine(b, c, d, zooms, qfac, offset):
    hdr = nib.Nifti1Header()
    hdr["quatern_b"], hdr["quatern_c"], hdr["quatern_d"] = b, c, d
    hdr["pixdim"][0] = qfac
    hdr["pixdim"][1:4] = zooms
    hdr["qoffset_x"], hdr["qoffset_y"], hdr["qoffset_z"] = offset
    return hdr


def to_bytes(img, pair=False):
    fm = img.make_file_map({"image": io.BytesIO(), "header": io.BytesIO()})
    img.to_file_map(fm)
    if pair:
        return fm["header"].fileobj.getvalue(), fm["image"].fileobj.getvalue()
    return fm["image"].fileobj.getvalue(), None


def case(name, img, pair=False, gz=False, mutate=None):
    hdr_bytes, img_bytes = to_bytes(img, pair)
    if mutate:
        hdr_bytes = mutate(hdr_bytes)
    if gz:
        hdr_bytes = gzip.compress(hdr_bytes, mtime=0)
    cls = nib.Nifti2Pair if (pair and isinstance(img, nib.Nifti2Pair)) else None
    # What nibabel reads back from exactly these bytes.
    if pair:
        klass = type(img)
        fm = klass.make_file_map({"header": io.BytesIO(hdr_bytes), "image": io.BytesIO(img_bytes)})
        back = klass.from_file_map(fm)
    else:
        raw = gzip.decompress(hdr_bytes) if gz else hdr_bytes
        back = type(img).from_bytes(raw) if hasattr(type(img), "from_bytes") else None
    del cls
    data = np.asanyarray(back.dataobj)
    if data.dtype.fields:  # RGB: nibabel gives a structured array; we give channels
        data = np.stack([data[f] for f in data.dtype.names], axis=-1)
    exts = [[int(e.get_code()), base64.b64encode(e.get_content()).decode()] for e in back.header.extensions]
    out = {
        "name": name,
        "file": base64.b64encode(hdr_bytes).decode(),
        "shape": [int(s) for s in data.shape],
        "dtype": data.dtype.newbyteorder("=").name,
        "affine": back.affine.tolist(),
        "zooms": [float(z) for z in back.header.get_zooms()],
        "axcodes": "".join(nib.aff2axcodes(back.affine)),
        "data": [None if not np.isfinite(v) else float(v) for v in data.reshape(-1, order="F").astype(np.float64)],
        "extensions": exts,
    }
    if img_bytes is not None:
        out["img"] = base64.b64encode(img_bytes).decode()
    return out


def main(path):
    cases = []
    aff = np.array([[-2.0, 0.1, 0, 30], [0.2, 2.5, 0.3, -20], [0, -0.1, 3.0, 10], [0, 0, 0, 1]])
    for dt in ["uint8", "int8", "int16", "uint16", "int32", "uint32", "int64", "float32", "float64"]:
        info = np.iinfo(dt) if np.dtype(dt).kind in "iu" else None
        if info:
            lo, hi = max(info.min, -(2**40)), min(info.max, 2**40)
            arr = rng.randint(0, 1000, size=(3, 4, 2)).astype(np.float64)
            arr.flat[0], arr.flat[1] = lo, hi
            arr = arr.astype(dt)
        else:
            arr = (rng.randn(3, 4, 2) * 100).astype(dt)
        img = nib.Nifti1Image(arr, aff, dtype=dt)
        img.header.set_slope_inter(1.0, 0.0)
        cases.append(case(f"datatype {dt}", img))
    # Big endian int16 with scaling (slope and intercept), and float32 big endian.
    be = nib.Nifti1Header(endianness=">")
    img = nib.Nifti1Image(rng.randint(-500, 500, size=(4, 3, 2)).astype(np.int16), aff, be)
    img.header.set_data_dtype(">i2")
    img.header.set_slope_inter(0.25, -3.0)
    cases.append(case("big endian int16 slope 0.25 inter -3", img))
    be = nib.Nifti1Header(endianness=">")
    img = nib.Nifti1Image(rng.randn(2, 3, 4).astype(">f4"), aff, be)
    cases.append(case("big endian float32", img))
    # Slope 0 means no scaling; slope with an int32 source.
    img = nib.Nifti1Image(rng.randint(0, 100, size=(3, 3, 3)).astype(np.int16), aff)
    img.header.set_slope_inter(1.0, 0.0)
    cases.append(case("slope 0 is no scaling", img, mutate=lambda b: b[:112] + b"\0\0\0\0" + b"\0\0\x80\x3f" + b[120:]))
    img = nib.Nifti1Image(rng.randint(-10**6, 10**6, size=(3, 2, 2)).astype(np.int32), aff)
    img.header.set_slope_inter(0.5, 7.0)
    cases.append(case("int32 slope 0.5 inter 7", img))
    # RGB24.
    rgb = np.zeros((3, 2, 2), dtype=[("R", "u1"), ("G", "u1"), ("B", "u1")])
    for f in "RGB":
        rgb[f] = rng.randint(0, 256, size=(3, 2, 2))
    cases.append(case("rgb24", nib.Nifti1Image(rgb, aff)))
    # qform-only geometry: oblique, 180° about x (b=1 in float32), near-180°, qfac -1.
    for label, (b, c, d), qfac in [
        ("oblique", (0.1, -0.2, 0.3), 1),
        ("180 degrees about x", (1.0, 0.0, 0.0), 1),
        ("near 180 degrees", (0.6, 0.8, 0.0000001), 1),
        ("qfac -1", (0.0, 0.0, 0.7071068), -1),
    ]:
        hdr = qform_affine(b, c, d, (1.5, 2.0, 2.5), qfac, (10.0, -12.0, 5.5))
        hdr.set_data_dtype(np.int16)
        hdr["qform_code"] = 1
        hdr["sform_code"] = 0
        img = nib.Nifti1Image(rng.randint(0, 50, size=(2, 3, 4)).astype(np.int16), None, hdr)
        img.header["qform_code"] = 1
        img.header["sform_code"] = 0
        img.update_header()
        cases.append(case(f"qform only {label}", img))
    # No transform at all: pixdim-only base affine.
    img = nib.Nifti1Image(rng.randint(0, 9, size=(5, 4, 3)).astype(np.uint8), np.diag([2.0, 3.0, 4.0, 1.0]))
    img.header["sform_code"] = 0
    img.header["qform_code"] = 0
    cases.append(case("no sform or qform", img))
    # sform_code > 0 wins over a different qform.
    img = nib.Nifti1Image(rng.randint(0, 9, size=(2, 2, 2)).astype(np.uint8), aff)
    img.set_qform(np.diag([1.0, 1.0, 1.0, 1.0]), code=1)
    img.set_sform(aff, code=2)
    cases.append(case("sform beats qform", img))
    # 2D, 4D, 5D.
    cases.append(case("2d", nib.Nifti1Image(rng.randn(4, 3).astype(np.float32), aff)))
    cases.append(case("4d", nib.Nifti1Image(rng.randn(2, 3, 2, 3).astype(np.float32), aff)))
    cases.append(case("5d", nib.Nifti1Image(rng.randn(2, 2, 2, 1, 3).astype(np.float32), aff)))
    # Extensions.
    img = nib.Nifti1Image(rng.randint(0, 9, size=(2, 2, 2)).astype(np.int16), aff)
    img.header.extensions.append(nib.nifti1.Nifti1Extension(6, b"a comment extension"))
    img.header.extensions.append(nib.nifti1.Nifti1Extension(4, b"<AFNI>x</AFNI>" * 3))
    cases.append(case("two extensions", img))
    # NIfTI-2, gzipped single file and pairs.
    cases.append(case("nifti2 float64", nib.Nifti2Image(rng.randn(3, 2, 2), aff)))
    cases.append(case("gzipped nii", nib.Nifti1Image(rng.randint(0, 99, size=(3, 3, 2)).astype(np.int16), aff),
                      gz=True))
    cases.append(case("nifti1 pair", nib.Nifti1Pair(rng.randn(3, 2, 2).astype(np.float32), aff), pair=True))
    cases.append(case("nifti2 pair", nib.Nifti2Pair(rng.randn(2, 2, 3).astype(np.float32), aff), pair=True))
    with open(path, "w") as f:
        json.dump({"cases": cases}, f, indent=0)


if __name__ == "__main__":
    main(sys.argv[1])
