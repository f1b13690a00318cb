"""Reference pixel values of 2D images (PNG, JPEG, TIFF) as scikit-image and PIL read them.

The images live in tests/fixtures/io_image_2d/ (written once by `io_image_2d.py --make`, with PIL and tifffile);
this script reads each with skimage.io.imread (NiftyNet's preferred 2D loader; PIL where Debian's skimage cannot
decode the compression) and with PIL, and records the arrays
(`[row][column]` or `[row][column][channel]`; multi-page TIFF `[page][row][column]`), dtype and the pixel spacing
the file states (mm; none when it states no physical unit).
Usage: io_image_2d.py OUT.json | io_image_2d.py --make"""
import json
import os
import sys

import numpy as np
from PIL import Image
import skimage.io

HERE = os.path.dirname(os.path.abspath(__file__))
DIR = os.path.join(HERE, "..", "fixtures", "io_image_2d")


def make():
    import tifffile
    rng = np.random.default_rng(16)
    os.makedirs(DIR, exist_ok=True)
    rows, cols = 5, 7
    gray = rng.integers(0, 256, (rows, cols), dtype=np.uint8)
    rgb = rng.integers(0, 256, (rows, cols, 3), dtype=np.uint8)
    rgba = rng.integers(0, 256, (rows, cols, 4), dtype=np.uint8)
    g16 = rng.integers(0, 65536, (rows, cols), dtype=np.uint16)
    Image.fromarray(gray, "L").save(os.path.join(DIR, "gray8.png"))
    Image.fromarray(g16.astype(np.int32)).convert("I;16").save(os.path.join(DIR, "gray16.png"))
    Image.fromarray(rgb, "RGB").save(os.path.join(DIR, "rgb_dpi.png"), dpi=(254, 127))
    Image.fromarray(rgba, "RGBA").save(os.path.join(DIR, "rgba.png"))
    Image.fromarray(rgb, "RGB").quantize(6).save(os.path.join(DIR, "palette.png"))
    Image.fromarray(gray > 127).save(os.path.join(DIR, "bw1.png"))
    smooth = (np.add.outer(np.arange(16) * 9, np.arange(24) * 5) % 256).astype(np.uint8)
    Image.fromarray(smooth, "L").save(os.path.join(DIR, "gray.jpg"), quality=95)
    colour = np.stack([smooth, smooth[::-1], 255 - smooth], -1)
    # 4:4:4 (no chroma subsampling): jpeg-js replicates subsampled chroma where libjpeg interpolates it.
    Image.fromarray(colour, "RGB").save(os.path.join(DIR, "rgb.jpg"), quality=95, subsampling=0)
    tifffile.imwrite(os.path.join(DIR, "gray16.tif"), g16, resolution=(4, 2), resolutionunit="CENTIMETER")
    tifffile.imwrite(os.path.join(DIR, "float32.tif"), rng.standard_normal((rows, cols)).astype(np.float32))
    Image.fromarray(rgb, "RGB").save(os.path.join(DIR, "rgb_lzw.tif"), compression="tiff_lzw")
    tifffile.imwrite(os.path.join(DIR, "gray8_deflate.tif"), gray, compression="zlib")
    tifffile.imwrite(os.path.join(DIR, "stack.tif"), rng.integers(0, 256, (2, rows, cols), dtype=np.uint8), photometric="minisblack")


def spacing_png(path):
    # PNG pHYs: pixels per metre (unit 1); PIL reports it as dpi.
    info = Image.open(path).info
    if "dpi" not in info:
        return None
    dx, dy = info["dpi"]
    return [25.4 / dy, 25.4 / dx]


def spacing_tif(path):
    import tifffile
    with tifffile.TiffFile(path) as t:
        tags = t.pages[0].tags
        unit = tags["ResolutionUnit"].value if "ResolutionUnit" in tags else 2
        if "XResolution" not in tags or int(unit) == 1:
            return None
        mm = 25.4 if int(unit) == 2 else 10.0
        x = tags["XResolution"].value
        y = tags["YResolution"].value
        return [mm * y[1] / y[0], mm * x[1] / x[0]]


def main(out):
    result = {}
    for name in sorted(os.listdir(DIR)):
        path = os.path.join(DIR, name)
        pil = Image.open(path)
        if pil.mode == "P":
            pil = pil.convert("RGBA" if "transparency" in pil.info else "RGB")
        pil_arr = np.asarray(pil)
        try:
            sk = np.asarray(skimage.io.imread(path))
            reader = "skimage"
        except ValueError:
            # Debian's tifffile lacks imagecodecs (LZW): PIL's libtiff decodes it.
            sk = pil_arr
            reader = "PIL"
        if name.endswith(".png"):
            spacing = spacing_png(path)
        elif name.endswith(".tif"):
            spacing = spacing_tif(path)
        else:
            spacing = None
        result[name] = {
            "shape": list(sk.shape),
            "dtype": str(sk.dtype),
            "reader": reader,
            "skimage": sk.astype(np.float64).tolist(),
            "pil": pil_arr.astype(np.float64).tolist(),
            # PIL reads only the first page of a TIFF stack.
            "pil_equal": bool(np.array_equal(pil_arr, sk if sk.ndim == pil_arr.ndim else sk[0])),
            "spacing": spacing,
        }
    json.dump(result, open(out, "w"))


if __name__ == "__main__":
    if sys.argv[1] == "--make":
        make()
    else:
        main(sys.argv[1])
