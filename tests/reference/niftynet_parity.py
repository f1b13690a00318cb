"""Reference values for NiftyNet 0.6 parity: grid window starts, grid aggregation, the preprocessing order and the
he_normal initializer. The rules are re-implemented here with numpy from NiftyNet 0.6's documented behaviour
(niftynet/engine/sampler_grid_v2.py: starts 0, step window - 2*border while the window fits, a last start snapped to
n - window, a middle start added when only two remain, windows in numpy.meshgrid order; windows_aggregator_base.py
crop_batch + windows_aggregator_grid.py: write the centre of each output over [start + border, end - border), later
windows overwrite; segmentation_application.py: pad every volume first, then whiten the padded image;
application_initializer.py: he_normal is TF 1.13 variance_scaling(2, fan_in, truncated normal)).
Arrays are indexed [x, y, z] and stored flattened x-fastest (order="F"). Usage: niftynet_parity.py OUT.json"""
import json
import sys

import numpy as np
from scipy.stats import truncnorm

rng = np.random.default_rng(20261206)


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).flatten(order="F")]


def steps_1d(n, win, step):
    """Starts along one axis, in the order NiftyNet yields them."""
    win, step, n = max(int(win), 1), max(int(step), 1), max(int(n), 0)
    starts = list(range(0, n - win + 1, step))
    starts.append(max(n - win, 0))
    uniq = sorted(set(starts))
    if len(uniq) == 2:
        mid = int(np.round((uniq[0] + uniq[1]) / 2.0))  # numpy rounds halves to even
        if mid not in uniq:
            uniq.append(mid)
    return uniq


def grid_starts(shape, win, border):
    """All window starts [x, y, z]; numpy.meshgrid's default 'xy' indexing makes y the slowest axis, z the fastest."""
    axes = [steps_1d(shape[d], win[d], win[d] - 2 * border[d]) for d in range(3)]
    return [[x, y, z] for y in axes[1] for x in axes[0] for z in axes[2]]


def network(window, index, out_shape):
    """A stand-in network: the centre of the window (valid-convolution style) plus the window's index."""
    o = [(window.shape[d] - out_shape[d]) // 2 for d in range(3)]
    return window[o[0]:o[0] + out_shape[0], o[1]:o[1] + out_shape[1], o[2]:o[2] + out_shape[2]] + index


def aggregate(volume, win, border, out_extra, fill):
    """Grid sampling + NiftyNet's grid aggregation of `network` outputs of shape window - 2*border + out_extra."""
    out = np.full(volume.shape, fill, dtype=np.float64)
    starts = grid_starts(volume.shape, win, border)
    cropped = [win[d] - 2 * border[d] for d in range(3)]
    out_shape = [cropped[d] + out_extra[d] for d in range(3)]
    for i, s in enumerate(starts):
        w = volume[s[0]:s[0] + win[0], s[1]:s[1] + win[1], s[2]:s[2] + win[2]]
        y = network(w, i, out_shape)
        left = [(out_shape[d] - cropped[d]) // 2 for d in range(3)]
        lo = [s[d] + border[d] for d in range(3)]
        out[lo[0]:lo[0] + cropped[0], lo[1]:lo[1] + cropped[1], lo[2]:lo[2] + cropped[2]] = \
            y[left[0]:left[0] + cropped[0], left[1]:left[1] + cropped[1], left[2]:left[2] + cropped[2]]
    return starts, out


out = {}

# One axis: odd/even lengths and windows, borders 0..k, lengths equal to and smaller than the window.
axis_cases = []
for n in [1, 5, 6, 7, 8, 9, 10, 11, 16, 17, 31, 32, 33]:
    for win in [1, 2, 3, 4, 5, 8, 9]:
        for border in range(0, (win - 1) // 2 + 1):
            axis_cases.append({"n": n, "window": win, "border": border,
                               "starts": [int(v) for v in steps_1d(n, win, win - 2 * border)]})
out["axis"] = axis_cases

# Whole volumes: starts and aggregated outputs (fill -1 marks voxels no window wrote).
volume_cases = []
for shape, win, border, extra in [
    ((11, 8, 6), (4, 4, 3), (0, 0, 0), (0, 0, 0)),
    ((11, 8, 6), (5, 4, 3), (1, 1, 1), (0, 0, 0)),
    ((12, 9, 7), (6, 5, 4), (2, 1, 1), (0, 0, 0)),
    ((12, 9, 7), (6, 5, 4), (2, 1, 1), (2, 1, 2)),
    ((10, 10, 1), (6, 4, 1), (1, 1, 0), (1, 0, 0)),
    ((6, 6, 6), (6, 6, 6), (2, 2, 2), (0, 0, 0)),
    ((9, 7, 5), (4, 7, 2), (1, 3, 0), (0, 0, 0)),
]:
    volume = rng.integers(-400, 400, size=shape) / 8.0  # exact in float32, short in JSON
    starts, agg = aggregate(volume, win, border, extra, -1.0)
    volume_cases.append({"shape": list(shape), "window": list(win), "border": list(border), "extra": list(extra),
                         "input": flat(volume), "starts": starts, "output": flat(agg)})
out["volumes"] = volume_cases

# The whole inference path: pad (numpy 'minimum') -> whiten the padded image -> grid -> identity net with a
# per-window offset -> aggregate with border -> remove the padding.
pipe_shape, pad, win, border = (13, 10, 7), 2, (6, 6, 4), (2, 2, 1)
raw = rng.integers(0, 1600, size=pipe_shape) / 8.0
padded = np.pad(raw, [(pad, pad)] * 3, mode="minimum")
whitened = (padded - padded.mean()) / max(padded.std(), 1e-5)
starts, agg = aggregate(whitened, win, border, (0, 0, 0), 0.0)
out["pipeline"] = {"shape": list(pipe_shape), "padding": pad, "window": list(win), "border": list(border),
                   "input": flat(raw), "padded_whitened": flat(whitened), "starts": starts,
                   "output": flat(agg[pad:-pad, pad:-pad, pad:-pad]), "mean": float(padded.mean()),
                   "std": float(padded.std()),
                   "whiten_then_pad": flat(np.pad((raw - raw.mean()) / raw.std(), [(pad, pad)] * 3, mode="minimum"))}

# Resize aggregator (windows_aggregator_resize.py): edge-pad the output by the border, then scipy.ndimage.zoom to the
# padded volume's shape with output_interp_order.
from scipy.ndimage import zoom  # noqa: E402

small = rng.integers(-400, 400, size=(6, 5, 4)) / 8.0
edge = np.pad(small, 1, mode="edge")
target = (13, 10, 7)
out["resize"] = {"input": flat(small), "shape": list(small.shape), "border": 1, "target": list(target),
                 "order": {str(o): flat(zoom(edge, [t / s for t, s in zip(target, edge.shape)], order=o))
                           for o in [0, 1]}}

# he_normal: truncated N(0, sqrt(2/fan_in)/0.8796) cut at 2 of its sigmas (TF 1.13 VarianceScaling 'normal').
fan_in = 3 * 3 * 3 * 16
sigma = np.sqrt(2.0 / fan_in) / truncnorm(-2, 2).std()
dist = truncnorm(-2, 2, scale=sigma)
out["he_normal"] = {"shape": [3, 3, 3, 16, 32], "fan_in": fan_in, "std": float(dist.std()), "bound": float(2 * sigma),
                    "kurtosis": float(dist.stats(moments="k"))}

with open(sys.argv[1], "w") as f:
    json.dump(out, f)
