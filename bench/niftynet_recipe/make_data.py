"""Data for the NiftyNet-parity recipe check: two 64^3 subjects cut from the real T1 (brainchop's t1_crop.nii.gz,
256^3 1 mm) by taking every 4th voxel from offsets 0 and 2, with a label made by thresholding the T1 smoothed at full
resolution (sigma 2 mm) at its 70th percentile inside the head: a bright-tissue (mostly white matter) map.
Usage: make_data.py T1_CROP OUT_DIR (exits 77 when T1_CROP is absent)."""
import os
import sys

import nibabel as nib
import numpy as np
from scipy.ndimage import gaussian_filter

src, out = sys.argv[1], sys.argv[2]
if not os.path.exists(src):
    print(f"{src} is absent", file=sys.stderr)
    sys.exit(77)
os.makedirs(out, exist_ok=True)
img = nib.load(src)
t1 = np.asarray(img.dataobj, dtype=np.float32)
smooth = gaussian_filter(t1, 2.0)
head = smooth > 0.1 * smooth.max()
label = (smooth > np.percentile(smooth[head], 70)).astype(np.int16)
for name, off in [("a", 0), ("b", 2)]:
    sl = (slice(off, None, 4),) * 3
    affine = img.affine.copy()
    affine[:3, :3] = img.affine[:3, :3] * 4
    affine[:3, 3] = img.affine[:3, :3] @ np.array([off] * 3) + img.affine[:3, 3]
    nib.save(nib.Nifti1Image(t1[sl].astype(np.float32), affine), os.path.join(out, f"{name}_T1.nii.gz"))
    nib.save(nib.Nifti1Image(label[sl], affine), os.path.join(out, f"{name}_label.nii.gz"))
    print(name, t1[sl].shape, "label fraction", float(label[sl].mean()))
