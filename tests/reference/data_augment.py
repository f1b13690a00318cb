"""Reference warps for the augmentation layers: scipy.ndimage.affine_transform for a rotation+scaling about the
volume centre (orders 0, 1, 3), map_coordinates along a smooth displacement field (orders 0, 1, 3), and
gaussian_filter. Arrays are indexed [x, y, z] and stored flattened x-fastest (order="F").
Usage: data_augment.py OUT.json"""
import json
import sys

import numpy as np
import scipy.ndimage as ndi

rng = np.random.default_rng(4242)


def flat(a):
    return [float(v) for v in np.asarray(a, dtype=np.float64).flatten(order="F")]


def rot(deg):
    a, b, c = np.deg2rad(deg)
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rx @ ry @ rz


shape = (9, 8, 7)
vol = rng.normal(size=shape).astype(np.float32).astype(np.float64)
labels = rng.integers(0, 4, size=shape).astype(np.float64)
deg = [12.0, -7.0, 25.0]
scale = [1.1, 0.95, 1.05]
m = rot(deg) @ np.diag(1.0 / np.array(scale))
c = (np.array(shape) - 1) / 2.0
offset = c - m @ c
affine = {str(o): flat(ndi.affine_transform(vol, m, offset=offset, order=o, mode="constant", cval=0.0))
          for o in (0, 1, 3)}
affine_labels = flat(ndi.affine_transform(labels, m, offset=offset, order=0, mode="constant", cval=0.0))

# 2D: rotation about z only on a (11, 10, 1) slice.
shape2 = (11, 10, 1)
vol2 = rng.normal(size=shape2).astype(np.float32).astype(np.float64)
m2 = rot([0.0, 0.0, -30.0])
c2 = (np.array(shape2) - 1) / 2.0
affine2 = flat(ndi.affine_transform(vol2, m2, offset=c2 - m2 @ c2, order=1, mode="constant", cval=0.0))

# A smooth displacement field.
x, y, z = np.meshgrid(*[np.arange(n, dtype=np.float64) for n in shape], indexing="ij")
field = np.stack([1.7 * np.sin(y / 3.0) + 0.3 * z, -1.2 * np.cos(x / 2.5), 0.8 * np.sin((x + y) / 4.0)])
coords = np.stack([x, y, z]) + field
warp = {str(o): flat(ndi.map_coordinates(vol, coords, order=o, mode="constant", cval=0.0)) for o in (0, 1, 3)}

blur = flat(ndi.gaussian_filter(vol, sigma=[1.2, 0.7, 0.0], truncate=4.0, mode="reflect"))

json.dump({
    "shape": list(shape), "volume": flat(vol), "labels": flat(labels), "degrees": deg, "scale": scale,
    "matrix": [[float(v) for v in row] for row in m], "affine": affine, "affine_labels": affine_labels,
    "shape2d": list(shape2), "volume2d": flat(vol2), "affine2d": affine2,
    "field": [flat(f) for f in field], "warp": warp, "blur": blur,
}, open(sys.argv[1], "w"))
