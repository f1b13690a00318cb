"""Independent numpy read of the brainchop MeshNet tfjs layers model in ../shared/data/meshnet_gw_ae.

Writes JSON: {"model_json_sha256", "shards_sha256": {file: sha256}, "layers": [{"class_name", "name"}],
"weights": [{"name", "dtype", "shape", "sum", "sum_sq", "first"}]} (sums in float64 of the float32 values).

The model files live outside the repository. Where they are absent this script cannot regenerate anything: it says
so on stderr and exits with status 77, which the fixture-regeneration test reports as skipped.
"""
import hashlib
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.normpath(os.path.join(HERE, "..", "..", "..", "shared", "data", "meshnet_gw_ae"))
NUMPY = {"float32": "<f4", "int32": "<i4", "bool": "u1"}


def sha256(path):
    return hashlib.sha256(open(path, "rb").read()).hexdigest()


def main(out_path):
    model_path = os.path.join(DATA, "model.json")
    if not os.path.exists(model_path):
        print(f"{model_path} absent: nothing to regenerate", file=sys.stderr)
        sys.exit(77)
    model = json.load(open(model_path))
    weights, shard_hashes = [], {}
    for group in model["weightsManifest"]:
        blob = b""
        for name in group["paths"]:
            blob += open(os.path.join(DATA, name), "rb").read()
            shard_hashes[name] = sha256(os.path.join(DATA, name))
        offset = 0
        for spec in group["weights"]:
            if "quantization" in spec:
                raise SystemExit("quantized MeshNet weights are not expected")
            dtype = np.dtype(NUMPY[spec["dtype"]])
            count = int(np.prod(spec["shape"], dtype=np.int64))
            values = np.frombuffer(blob, dtype=dtype, count=count, offset=offset).astype(np.float64)
            offset += count * dtype.itemsize
            weights.append({"name": spec["name"], "dtype": spec["dtype"], "shape": spec["shape"],
                            "sum": float(values.sum()), "sum_sq": float((values * values).sum()),
                            "first": [float(v) for v in values[:5]]})
        if offset != len(blob):
            raise SystemExit(f"group uses {offset} of {len(blob)} bytes")
    layers = [{"class_name": layer["class_name"], "name": layer["config"]["name"]}
              for layer in model["modelTopology"]["model_config"]["config"]["layers"]]
    out = {"model_json_sha256": sha256(model_path), "shards_sha256": shard_hashes, "layers": layers,
           "weights": weights}
    with open(out_path, "w") as f:
        json.dump(out, f, indent=1)


if __name__ == "__main__":
    main(sys.argv[1])
