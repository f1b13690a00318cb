import assert from "node:assert/strict";
import { assertRejects, loadFixture } from "./_util.ts";
import { readImage } from "../src/io/mod.ts";
import { convertCommand, infoCommand } from "../src/commands/info_convert.ts";

/** tests/reference/io_image_2d.py: the fixture images as scikit-image (or PIL) reads them. */
interface Entry {
  shape: number[];
  dtype: string;
  reader: string;
  skimage: unknown;
  pil: unknown;
  spacing: [number, number] | null;
}
const fixture = loadFixture<Record<string, Entry>>("io_image_2d");
const dir = new URL("./fixtures/io_image_2d/", import.meta.url).pathname;

/** The reference array as voxels in our layout: x = row, y = column, z = TIFF page, channel last. */
function expectedVoxels(name: string, values: unknown): { shape: number[]; data: number[] } {
  const pages = name === "stack.tif" ? values as number[][][] : [values as number[][] | number[][][]];
  const rows = pages[0].length, cols = (pages[0][0] as unknown[]).length;
  const first = (pages[0][0] as unknown[])[0];
  const channels = Array.isArray(first) ? first.length : 1;
  const data = new Array<number>(rows * cols * pages.length * channels);
  pages.forEach((page, z) => {
    for (let r = 0; r < rows; r++) {
      for (let c = 0; c < cols; c++) {
        const px = (page[r] as unknown[])[c];
        for (let ch = 0; ch < channels; ch++) {
          data[r + rows * (c + cols * (z + pages.length * ch))] = Array.isArray(px) ? px[ch] : px as number;
        }
      }
    }
  });
  return { shape: [rows, cols, pages.length, 1, channels], data };
}

// 1-bit PNGs: skimage (imageio) scales them to 0/255, PIL and we read 0/1; palette PNGs: skimage adds an opaque
// alpha channel, PIL's convert("RGB") and we expand to RGB (RGBA only when the palette has alpha).
const PIL_SEMANTICS = new Set(["bw1.png", "palette.png"]);

for (const [name, entry] of Object.entries(fixture)) {
  const reference = PIL_SEMANTICS.has(name) ? "PIL" : entry.reader;
  Deno.test(`2D reader gives ${reference}'s pixel values for ${name} (x = row, y = column)`, async () => {
    const img = await readImage(dir + name);
    const want = expectedVoxels(name, PIL_SEMANTICS.has(name) ? entry.pil : entry.skimage);
    assert.deepEqual([...img.shape], want.shape);
    let maxDiff = 0;
    for (let i = 0; i < want.data.length; i++) {
      maxDiff = Math.max(maxDiff, Math.abs(Number(img.data[i]) - want.data[i]));
    }
    // jpeg-js and libjpeg round the inverse DCT and colour conversion differently; lossless formats are exact.
    const tolerance = name.endsWith(".jpg") ? 2 : name === "float32.tif" ? 1e-7 : 0;
    assert.ok(maxDiff <= tolerance, `${name}: max |ours - ${reference}| = ${maxDiff} > ${tolerance}`);
    if (!PIL_SEMANTICS.has(name)) assert.equal(img.datatype, entry.dtype === "bool" ? "uint8" : entry.dtype);
    const spacing = entry.spacing ?? [1, 1];
    assert.ok(Math.abs(img.pixdim[0] - spacing[0]) < 1e-9 && Math.abs(img.pixdim[1] - spacing[1]) < 1e-9);
    assert.equal(img.affine[0][0], img.pixdim[0]);
    assert.equal(img.affine[1][1], img.pixdim[1]);
  });
}

Deno.test("2D reader names the file when a PNG is truncated", async () => {
  const bytes = await Deno.readFile(dir + "gray8.png");
  const path = await Deno.makeTempFile({ suffix: ".png" });
  try {
    await Deno.writeFile(path, bytes.subarray(0, 40));
    await assertRejects(() => readImage(path), `cannot read "${path}" as PNG`);
  } finally {
    await Deno.remove(path);
  }
});

Deno.test("info describes a PNG slice: format, 2D dimensions, 1 mm pixels", async () => {
  const text = await infoCommand(dir + "gray8.png");
  assert.match(text, /format\s+PNG/);
  assert.match(text, /dimensions\s+5 x 7 \(2D, 35 voxels\)/);
  assert.match(text, /voxel size\s+1 x 1 x 1 mm/);
});

Deno.test("convert writes a PNG, an RGB PNG and a TIFF stack as NIfTI with the same voxels and spacing", async () => {
  const out = await Deno.makeTempDir();
  try {
    for (const name of ["gray8.png", "rgb_dpi.png", "gray16.tif", "stack.tif"]) {
      const target = `${out}/${name}.nii.gz`;
      const line = await convertCommand(dir + name, target);
      assert.match(line, /^wrote /);
      const [source, written] = [await readImage(dir + name), await readImage(target)];
      assert.deepEqual(written.shape, source.shape, name);
      assert.deepEqual([...written.data], [...source.data], name);
      assert.equal(written.datatype, source.datatype, name);
      for (let i = 0; i < 3; i++) assert.ok(Math.abs(written.pixdim[i] - source.pixdim[i]) < 1e-6, name);
    }
  } finally {
    await Deno.remove(out, { recursive: true });
  }
});
