"""Reference throughput for bench/data_sampling.ts, TorchIO-style with numpy/scipy: per patch, a uniform 64^3 crop
of a 128^3 image and label, random flips (each axis p = 0.5) and a random rotation in [-15, 15] degrees about each
axis around the patch centre (scipy.ndimage.affine_transform, order 1 image / order 0 label, constant 0).
Usage: data_sampling.py N_PATCHES  (prints one JSON line)"""
import json
import sys
import time

import numpy as np
import scipy.ndimage as ndi

n = int(sys.argv[1]) if len(sys.argv) > 1 else 20
size, win = 128, 64
rng = np.random.default_rng(0)
image = ndi.gaussian_filter(rng.normal(size=(size,) * 3).astype(np.float32), 2)
label = (image > 0).astype(np.float32)


def rot(deg):
    a, b, c = np.deg2rad(deg)
    rx = np.array([[1, 0, 0], [0, np.cos(a), -np.sin(a)], [0, np.sin(a), np.cos(a)]])
    ry = np.array([[np.cos(b), 0, np.sin(b)], [0, 1, 0], [-np.sin(b), 0, np.cos(b)]])
    rz = np.array([[np.cos(c), -np.sin(c), 0], [np.sin(c), np.cos(c), 0], [0, 0, 1]])
    return rx @ ry @ rz


def patch():
    s = rng.integers(0, size - win + 1, size=3)
    sl = tuple(slice(a, a + win) for a in s)
    img, lab = image[sl], label[sl]
    for ax in range(3):
        if rng.uniform() < 0.5:
            img, lab = np.flip(img, ax), np.flip(lab, ax)
    m = rot(rng.uniform(-15, 15, size=3))
    c = (np.array(img.shape) - 1) / 2
    off = c - m @ c
    return (ndi.affine_transform(img, m, offset=off, order=1, mode="constant"),
            ndi.affine_transform(lab, m, offset=off, order=0, mode="constant"))


patch()
t0 = time.perf_counter()
for _ in range(n):
    patch()
dt = time.perf_counter() - t0
print(json.dumps({"patches": n, "seconds": dt, "patches_per_s": n / dt}))
