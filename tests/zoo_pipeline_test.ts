/**
 * The zoo pipeline's steps (normalisation, crop box, largest component, input checks) and every entry end to end on
 * a 64³ crop of the real T1 against the independent PyTorch re-implementation (tests/reference/zoo_pipeline.py).
 */
import { deepStrictEqual as assertEquals, ok as assert, throws as assertThrows } from "node:assert/strict";
import { inflateSync } from "node:zlib";
import { readImage } from "../src/io/mod.ts";
import {
  checkZooInput,
  keepLargestComponent,
  loadZooModel,
  segmentConformed,
  zooIds,
  type ZooModel,
} from "../zoo/mod.ts";
import { boundingBox, minMaxNormalize, quantileNormalize, toCOrder, toNiftiOrder } from "../zoo/volume_ops.ts";
import { makeImage } from "./_data_helpers.ts";
import { loadFixture } from "./_util.ts";

const MIRROR = new URL("../../shared/data/brainchop/", import.meta.url);
const present = (() => {
  try {
    return Deno.statSync(new URL("t1_crop.nii.gz", MIRROR)).isFile;
  } catch {
    return false;
  }
})();
if (!present) console.warn(`zoo pipeline tests on the real T1 skipped: ${MIRROR.pathname} is absent`);

Deno.test("largest 26-connected component: of the whole foreground (brainchop) or per label", () => {
  // [4, 3, 3] volume (C order, z fastest). A diagonal neighbour counts (26-connectivity).
  const shape = [4, 3, 3] as const;
  const at = (x: number, y: number, z: number) => (x * 3 + y) * 3 + z;
  const data = new Uint8Array(36);
  data[at(0, 0, 0)] = 1;
  data[at(1, 1, 1)] = 2; // diagonal to (0,0,0): same component in foreground mode
  data[at(1, 1, 2)] = 2;
  data[at(3, 2, 2)] = 1; // isolated
  const fg = keepLargestComponent(data.slice(), shape, "foreground");
  assertEquals([...fg.keys()].filter((i) => fg[i]), [at(0, 0, 0), at(1, 1, 1), at(1, 1, 2)]);
  const per = keepLargestComponent(data.slice(), shape, "per-label");
  // label 1 has two single-voxel components: the first in scan order stays; label 2 keeps its pair.
  assertEquals([...per.keys()].filter((i) => per[i]), [at(0, 0, 0), at(1, 1, 1), at(1, 1, 2)]);
});

Deno.test("min-max and brainchop's quantile normalisation (sorted indices ⌊0.05n⌋ and ⌈0.95n⌉ − 1)", () => {
  const data = Float32Array.from({ length: 40 }, (_, i) => (i * 7) % 40); // a permutation of 0…39
  assertEquals([...minMaxNormalize(data)].slice(0, 3), [0, 7 / 39, 14 / 39].map(Math.fround));
  // n = 40: q_low = sorted[2] = 2, q_high = sorted[37] = 37.
  const q = quantileNormalize(data);
  assertEquals(q[0], Math.fround(-2 / 35));
  assertEquals(q[1], Math.fround(5 / 35));
});

Deno.test("crop box: bounding box of the foreground plus padding, clipped to the volume", () => {
  const shape = [10, 8, 6] as const;
  const inside = (i: number) => i === (2 * 8 + 7) * 6 + 1 || i === (6 * 8 + 3) * 6 + 4;
  assertEquals(boundingBox(shape, inside, 3), { start: [0, 0, 0], end: [9, 7, 5] });
  assertEquals(boundingBox(shape, inside, 1), { start: [1, 2, 0], end: [7, 7, 5] });
  assertEquals(boundingBox(shape, () => false, 1), undefined);
});

Deno.test("NIfTI order and C order round-trip", () => {
  const shape = [3, 4, 5] as const;
  const nifti = Float32Array.from({ length: 60 }, (_, i) => i);
  const c = toCOrder(nifti, shape);
  assertEquals(c[(2 * 4 + 1) * 5 + 3], 2 + 3 * (1 + 4 * 3)); // (x, y, z) = (2, 1, 3)
  assertEquals(toNiftiOrder(c, shape, (n) => new Float32Array(n)), nifti);
});

Deno.test("zoo input checks: 2D refused, 4D uses the first volume (said), small field of view refused", () => {
  const affine = [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]] as const;
  assertThrows(
    () => checkZooInput(makeImage(new Float32Array(256 * 256), [256, 256, 1, 1, 1], affine), "slice.nii"),
    /^Error: slice\.nii: is a 2D image \[256, 256\]; the zoo's models need a 3D T1 volume$/,
  );
  assertThrows(
    () => checkZooInput(makeImage(new Float32Array(40 ** 3), [40, 40, 40, 1, 1], affine), "small.nii"),
    /small\.nii: covers only 40 × 40 × 40 mm; the zoo's models expect a whole head/,
  );
  const series = makeImage(Float32Array.from({ length: 90 ** 3 * 2 }, (_, i) => i), [90, 90, 90, 2, 1], affine);
  const { image, notes } = checkZooInput(series, "bold.nii");
  assertEquals(image.shape, [90, 90, 90, 1, 1]);
  assertEquals(image.data.length, 90 ** 3);
  assertEquals(image.data[90 ** 3 - 1], 90 ** 3 - 1);
  assertEquals(notes, ["bold.nii: 4D series with 2 volumes, segmented the first volume (t = 0)"]);
});

interface EntryFixture {
  counts: number[];
  labels_zlib_b64: string;
}
const fixture = loadFixture<{ crop: number[][]; entries: Record<string, EntryFixture> }>("zoo_pipeline");

Deno.test({
  name: "every zoo entry on a 64³ crop of the real T1 agrees with PyTorch on ≥ 99.99% of voxels",
  ignore: !present,
  fn: async () => {
    const t1 = await readImage(new URL("t1_crop.nii.gz", MIRROR).pathname);
    const [[x0, x1], [y0, y1], [z0, z1]] = fixture.crop;
    const shape = [x1 - x0, y1 - y0, z1 - z0] as const;
    const crop = new Float32Array(shape[0] * shape[1] * shape[2]);
    let i = 0;
    for (let x = x0; x < x1; x++) {
      for (let y = y0; y < y1; y++) {
        for (let z = z0; z < z1; z++) crop[i++] = t1.data[x + 256 * (y + 256 * z)];
      }
    }
    const cacheDir = await Deno.makeTempDir();
    const models = new Map<string, ZooModel>();
    const lines: string[] = [];
    try {
      for (const id of zooIds()) {
        const model = await loadZooModel(id, { mirror: MIRROR.pathname, cacheDir });
        models.set(id, model);
        const { labels } = segmentConformed(model, crop, shape);
        const expected = inflateSync(
          Uint8Array.from(atob(fixture.entries[id].labels_zlib_b64), (c) => c.charCodeAt(0)),
        );
        let differ = 0;
        for (let k = 0; k < labels.length; k++) if (labels[k] !== expected[k]) differ++;
        const classes = new Set(labels).size;
        lines.push(`${id}: ${differ} of ${labels.length} voxels differ, ${classes} classes`);
        assert(differ <= labels.length * 1e-4, lines.at(-1));
        assert(classes >= 2, `${id} found only background`);
      }
    } finally {
      for (const m of models.values()) m.dispose();
      await Deno.remove(cacheDir, { recursive: true });
      console.log(lines.join("\n"));
    }
  },
});
