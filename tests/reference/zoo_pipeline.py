"""Independent PyTorch re-implementation of the zoo pipeline (brainchop's MeshNet models), reading the tfjs weight
files directly with numpy. Entry settings come from brainchop's own parameters (../shared/data/brainchop/README.md),
written out again here, not read from the TypeScript manifests.

Fixture mode (`zoo_pipeline.py OUT.json`): exact GELU / ELU / plain instance norm on a seeded input, and every zoo entry on a 64³ crop of the real T1 (left side of the head: scalp, cortex, white matter) (conformed-part pipeline:
normalise, crop box, network, argmax, paste, largest component); writes per entry the label counts and the label
volume (zlib + base64, C order [x, y, z]).

Full mode (`zoo_pipeline.py --full ID OUT.nii.gz`): the whole pipeline on ../shared/data/brainchop/t1_crop.nii.gz
(already conformed: 256³, 1 mm, LIA), writing the main output on the input's grid.
Compare mode (`zoo_pipeline.py --compare A.nii.gz B.nii.gz`): prints agreeing voxels.

The brainchop folder lives outside the repository; where it is absent this script exits with status 77.
"""
import base64
import json
import os
import sys
import zlib

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data", "brainchop"))
T1 = os.path.join(DATA, "t1_crop.nii.gz")
CROP = (slice(40, 104), slice(100, 164), slice(100, 164))  # 64³ at the left side of the head

# id: (model dir, activation, instance norm, quantile norm, crop padding, auto threshold, pre-model, output kind)
ENTRIES = {
    "gwm-light": ("model5_gw_ae", "relu", False, False, 18, 0.0, None, "labels"),
    "gwm-high-acc": ("model20chan3cls", "elu", False, True, 0, 0.2, None, "labels"),
    "subcortical-gwm": ("model30chan18cls", "elu", False, False, 0, 0.2, None, "labels"),
    "subcortical-gwm-light": ("model18cls", "elu", False, False, 0, 0.2, None, "labels"),
    "subcortical-gwm-failsafe": ("model30chan18cls", "elu", False, False, 0, 0.0, "gwm-light", "labels"),
    "aparc50": ("model30chan50cls", "elu", False, True, 0, 0.0, "gwm-light", "labels"),
    "aparc104": ("model21_104class", "relu", False, False, 0, 0.0, None, "labels"),
    "brain-extract-fast": ("model5_gw_ae", "relu", False, False, 18, 0.0, None, "extracted"),
    "brain-extract-high-acc": ("model11_gw_ae", "relu", False, False, 0, 0.0, None, "extracted"),
    "brain-mask-fast": ("model5_gw_ae", "relu", False, False, 17, 0.0, None, "mask"),
    "brain-mask-high-acc": ("model11_gw_ae", "relu", False, True, 0, 0.0, None, "mask"),
    "mindgrab": ("mindgrab", "gelu", True, False, 20, 0.5, None, "mask"),
}


def load_layers(model_dir):
    """[(kernel as torch [out, in, k, k, k], bias or None, dilation, name)] in topology order."""
    import torch
    folder = os.path.join(DATA, "models", model_dir)
    model = json.load(open(os.path.join(folder, "model.json")))
    values = {}
    for group in model["weightsManifest"]:
        blob = b"".join(open(os.path.join(folder, p), "rb").read() for p in group["paths"])
        offset = 0
        for spec in group["weights"]:
            count = int(np.prod(spec["shape"], dtype=np.int64))
            values[spec["name"]] = np.frombuffer(blob, "<f4", count, offset).reshape(spec["shape"])
            offset += 4 * count
        assert offset == len(blob)
    topo = model["modelTopology"]
    layers = topo.get("model_config", topo)["config"]["layers"]
    out = []
    for layer in layers:
        if layer["class_name"] != "Conv3D":
            continue
        c = layer["config"]
        kernel = values[c["name"] + "/kernel"]  # [kd, kh, kw, in, out]
        bias = values.get(c["name"] + "/bias")
        w = torch.from_numpy(np.ascontiguousarray(kernel.transpose(4, 3, 0, 1, 2)))
        b = torch.from_numpy(bias.copy()) if bias is not None else None
        out.append((w, b, c["dilation_rate"][0], c["name"]))
    return out


def forward(layers, activation, instance_norm, volume):
    """Logits-argmax of the network on a [x, y, z] float32 volume."""
    import torch
    import torch.nn.functional as F
    act = {"relu": F.relu, "elu": F.elu, "gelu": lambda t: F.gelu(t)}[activation]
    with torch.no_grad():
        x = torch.from_numpy(np.ascontiguousarray(volume, dtype=np.float32))[None, None]
        for w, b, d, name in layers[:-1]:
            x = F.conv3d(x, w, b, padding=d * (w.shape[-1] - 1) // 2, dilation=d)
            if instance_norm and name.endswith("_gn"):
                x = F.instance_norm(x, eps=1e-5)
            x = act(x)
        # The 1×1×1 classifier and argmax in slabs of 16 rows: 104 classes of logits would not fit in memory.
        w, b = layers[-1][0], layers[-1][1]
        return np.concatenate([torch.argmax(F.conv3d(x[:, :, a:a + 16], w, b)[0], dim=0).numpy().astype(np.uint8)
                               for a in range(0, x.shape[2], 16)], axis=0)


def normalize(volume, quantile):
    v = volume.astype(np.float32)
    if quantile:
        s = np.sort(v, axis=None)
        n = s.size
        lo, hi = s[int(np.floor(0.05 * n))], s[int(np.ceil(0.95 * n)) - 1]
        return ((v - lo) / (hi - lo)).astype(np.float32)
    lo, hi = v.min(), v.max()
    return ((v - lo) / (hi - lo)).astype(np.float32)


def largest_component(labels):
    from scipy import ndimage
    comp, n = ndimage.label(labels > 0, structure=np.ones((3, 3, 3)))
    if n <= 1:
        return labels
    sizes = np.bincount(comp.ravel())
    sizes[0] = 0
    return np.where(comp == int(np.argmax(sizes)), labels, 0).astype(np.uint8)


_CACHE = {}


def run_entry(entry_id, raw):
    """The conformed-part pipeline on a raw [x, y, z] volume; returns the label map (before output masking)."""
    model_dir, activation, inorm, quantile, pad, threshold, pre, _ = ENTRIES[entry_id]
    if model_dir not in _CACHE:
        _CACHE[model_dir] = load_layers(model_dir)
    layers = _CACHE[model_dir]
    norm = normalize(raw, quantile)
    if pre is not None:
        p = ENTRIES[pre]
        if p[0] not in _CACHE:
            _CACHE[p[0]] = load_layers(p[0])
        inside = forward(_CACHE[p[0]], p[1], p[2], normalize(raw, p[3])) > 0
    else:
        inside = norm > (threshold * norm.max() if threshold > 0 else 0)
    idx = np.argwhere(inside)
    lo = np.maximum(idx.min(0) - pad, 0)
    hi = np.minimum(idx.max(0) + pad, np.array(raw.shape) - 1)
    box = tuple(slice(a, b + 1) for a, b in zip(lo, hi))
    labels = np.zeros(raw.shape, np.uint8)
    labels[box] = forward(layers, activation, inorm, norm[box])
    return largest_component(labels)


def layer_checks():
    """Exact GELU, ELU and plain instance normalisation (eps 1e-5, population variance) on a seeded input."""
    import torch
    import torch.nn.functional as F
    x = np.random.default_rng(11).normal(0, 2, size=(1, 3, 4, 5, 2)).astype(np.float32)  # NDHWC
    t = torch.from_numpy(x)
    inorm = F.instance_norm(t.permute(0, 4, 1, 2, 3), eps=1e-5).permute(0, 2, 3, 4, 1)
    return {"shape": list(x.shape), "x": x.ravel().tolist(), "gelu": F.gelu(t).numpy().ravel().tolist(),
            "elu": F.elu(t).numpy().ravel().tolist(), "instance_norm": inorm.numpy().ravel().tolist()}


def fixture(out_path):
    import nibabel as nib
    raw = np.asarray(nib.load(T1).dataobj)[CROP].astype(np.float32)
    out = {"crop": [[s.start, s.stop] for s in CROP], "layers": layer_checks(), "entries": {}}
    for entry_id in ENTRIES:
        labels = run_entry(entry_id, raw)
        out["entries"][entry_id] = {
            "counts": np.bincount(labels.ravel(), minlength=1).tolist(),
            "labels_zlib_b64": base64.b64encode(zlib.compress(labels.tobytes(), 9)).decode(),
        }
    with open(out_path, "w") as f:
        json.dump(out, f, indent=1)


def full(entry_id, out_path):
    import nibabel as nib
    img = nib.load(T1)
    raw = np.asarray(img.dataobj).astype(np.float32)
    assert raw.shape == (256, 256, 256) and nib.aff2axcodes(img.affine) == ("L", "I", "A")
    labels = run_entry(entry_id, raw)
    kind = ENTRIES[entry_id][7]
    if kind == "mask":
        labels = (labels > 0).astype(np.uint8)
    elif kind == "extracted":
        labels = np.where(labels > 0, np.asarray(img.dataobj), 0).astype(img.get_data_dtype())
    nib.save(nib.Nifti1Image(labels, img.affine), out_path)


def compare(a, b):
    import nibabel as nib
    x, y = np.asarray(nib.load(a).dataobj), np.asarray(nib.load(b).dataobj)
    assert x.shape == y.shape, (x.shape, y.shape)
    same = int((x == y).sum())
    print(json.dumps({"voxels": int(x.size), "agree": same, "fraction": same / x.size,
                      "labels_a": int(len(np.unique(x))), "labels_b": int(len(np.unique(y)))}))


if __name__ == "__main__":
    if not os.path.exists(T1):
        print(f"{T1} absent: nothing to regenerate", file=sys.stderr)
        sys.exit(77)
    if sys.argv[1] == "--full":
        full(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "--compare":
        compare(sys.argv[2], sys.argv[3])
    else:
        fixture(sys.argv[1])
