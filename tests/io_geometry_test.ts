import assert from "node:assert/strict";
import { assertClose, loadFixture } from "./_util.ts";
import type { Affine, Image, Shape5 } from "../src/io/mod.ts";
import {
  affineTransform,
  axcodesOf,
  conform,
  type InterpOrder,
  reorient,
  resampleToGrid,
  resampleToPixdim,
  toAffine,
  undoReorientation,
} from "../src/geometry/mod.ts";

interface Fixture {
  volume: { shape: [number, number, number]; data: number[] };
  affine_transform: {
    name: string;
    matrix: number[][];
    offset: number[];
    out_shape: [number, number, number];
    [k: string]: unknown;
  }[];
  resample_to_output: {
    affine: number[][];
    pixdim: number[];
    results: { order: InterpOrder; shape: number[]; affine: number[][]; data: number[] }[];
  };
  oblique_pixdim: {
    affine: number[][];
    pixdim: number[];
    shape: number[];
    out_affine: number[][];
    results: { order: InterpOrder; data: number[] }[];
  };
  axcodes: { affine: number[][]; axcodes: string }[];
  reorient: { affine: number[][]; results: { axcodes: string; shape: number[]; affine: number[][]; data: number[] }[] };
  conform: {
    affine: number[][];
    out_shape: [number, number, number];
    voxel: number;
    results: { axcodes: string; order: InterpOrder; shape: number[]; affine: number[][]; data: number[] }[];
  };
}
const fx = loadFixture<Fixture>("io_geometry");

function volumeImage(affine: number[][], data: ArrayLike<number> = fx.volume.data): Image {
  const [x, y, z] = fx.volume.shape;
  return {
    data: Float64Array.from(data),
    shape: [x, y, z, 1, 1],
    ndim: 3,
    affine: toAffine(affine),
    pixdim: [1, 1, 1],
    datatype: "float64",
    affineSource: "computed",
  };
}

for (const t of fx.affine_transform) {
  for (const order of [0, 1, 3] as const) {
    Deno.test(`affineTransform "${t.name}" order ${order} matches scipy.ndimage.affine_transform (mode constant) to 1e-12`, () => {
      const out = affineTransform(fx.volume.data, {
        inShape: fx.volume.shape,
        matrix: t.matrix,
        offset: t.offset,
        outShape: t.out_shape,
      }, { order });
      assertClose(out, t[`order${order}`] as number[], { rtol: 1e-12, atol: 1e-12 });
    });
  }
}

Deno.test("resampleToPixdim of an axis-aligned RAS image equals nibabel resample_to_output (orders 0, 1, 3)", () => {
  const r = fx.resample_to_output;
  for (const ref of r.results) {
    const { image } = resampleToPixdim(volumeImage(r.affine), { pixdim: r.pixdim, order: ref.order });
    assert.deepEqual(image.shape.slice(0, 3), ref.shape, `order ${ref.order} shape`);
    assertClose(image.affine.flat(), ref.affine.flat(), { atol: 1e-12, what: "affine" });
    assertClose(image.data, ref.data, { rtol: 1e-12, atol: 1e-12, what: `order ${ref.order} voxels` });
  }
});

Deno.test("resampleToPixdim of an oblique LAS image keeps its axes and matches scipy on the same grid", () => {
  const o = fx.oblique_pixdim;
  for (const ref of o.results) {
    const { image } = resampleToPixdim(volumeImage(o.affine), { pixdim: o.pixdim, order: ref.order });
    assert.deepEqual(image.shape.slice(0, 3), o.shape);
    assertClose(image.affine.flat(), o.out_affine.flat(), { atol: 1e-12, what: "affine" });
    assert.equal(axcodesOf(image.affine), axcodesOf(toAffine(o.affine)));
    assertClose(image.data, ref.data, { rtol: 1e-12, atol: 1e-12, what: `order ${ref.order} voxels` });
  }
});

Deno.test("axcodesOf matches nibabel aff2axcodes on oblique, flipped and permuted affines", () => {
  for (const a of fx.axcodes) assert.equal(axcodesOf(toAffine(a.affine)), a.axcodes);
});

Deno.test("reorient matches nibabel as_reoriented (RAS, LIA, PSL, ILA) and its inverse restores the input exactly", () => {
  const src = volumeImage(fx.reorient.affine);
  for (const ref of fx.reorient.results) {
    const { image, transform } = reorient(src, ref.axcodes);
    assert.equal(axcodesOf(image.affine), ref.axcodes);
    assert.deepEqual(image.shape.slice(0, 3), ref.shape);
    assertClose(image.affine.flat(), ref.affine.flat(), { atol: 1e-12, what: "affine" });
    assertClose(image.data, ref.data, { rtol: 0, atol: 0, what: "voxels" });
    const back = undoReorientation(image, transform);
    assert.deepEqual(back.shape, src.shape);
    assertClose(back.data, src.data, { rtol: 0, atol: 0, what: "inverse voxels" });
    assertClose(back.affine.flat(), src.affine.flat(), { atol: 1e-12, what: "inverse affine" });
  }
});

Deno.test("conform matches nibabel.processing.conform (8x9x10 at 1.5 mm; RAS order 1, LIA orders 3 and 0)", () => {
  const c = fx.conform;
  for (const ref of c.results) {
    const { image } = conform(volumeImage(c.affine), {
      shape: c.out_shape,
      voxelSize: [c.voxel, c.voxel, c.voxel],
      axcodes: ref.axcodes,
      order: ref.order,
    });
    assert.deepEqual(image.shape.slice(0, 3), ref.shape);
    assertClose(image.affine.flat(), ref.affine.flat(), { atol: 1e-10, what: "affine" });
    assert.equal(axcodesOf(image.affine), ref.axcodes);
    assertClose(image.data, ref.data, { rtol: 1e-10, atol: 1e-10, what: `${ref.axcodes} order ${ref.order}` });
  }
});

Deno.test("label map resampled to 0.5 mm and back with order 0 is identical, for every volume of a 4D image", () => {
  const shape: Shape5 = [4, 5, 3, 2, 1];
  const labels = new Uint8Array(4 * 5 * 3 * 2).map((_, i) => (i * 7) % 5);
  const affine: Affine = [[-1, 0, 0, 3], [0, 1.2, 0, -2], [0, 0, 2, 1], [0, 0, 0, 1]];
  const img: Image = {
    data: labels,
    shape,
    ndim: 4,
    affine,
    pixdim: [1, 1.2, 2],
    datatype: "uint8",
    affineSource: "computed",
  };
  const { image: fine, original } = resampleToPixdim(img, { pixdim: [0.5, 0.4, 0.5], order: 0 });
  assert.ok(fine.data instanceof Uint8Array, "nearest keeps the label type");
  assert.deepEqual(fine.shape.slice(3), [2, 1]);
  const back = resampleToGrid(fine, original, { order: 0 });
  assert.deepEqual(back.shape, shape);
  assert.deepEqual([...back.data], [...labels]);
  assertClose(back.affine.flat(), affine.flat(), { atol: 1e-12, what: "affine" });
});
