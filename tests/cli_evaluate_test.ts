import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { evaluateCommand } from "../src/commands/evaluate.ts";
import { type Image, writeNifti } from "../src/io/mod.ts";
import { assertRejects } from "./_util.ts";

/** A 20×18×10 uint8 label image at 0.8×0.8×2 mm, x fastest. */
function labelImage(fill: (x: number, y: number, z: number) => number, zSpacing = 2): Image {
  const [nx, ny, nz] = [20, 18, 10];
  const data = new Uint8Array(nx * ny * nz);
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) for (let x = 0; x < nx; x++) data[x + nx * (y + ny * z)] = fill(x, y, z);
  }
  return {
    data,
    shape: [nx, ny, nz, 1, 1],
    ndim: 3,
    affine: [[0.8, 0, 0, 0], [0, 0.8, 0, 0], [0, 0, zSpacing, 0], [0, 0, 0, 1]],
    pixdim: [0.8, 0.8, zSpacing],
    datatype: "uint8",
    affineSource: "sform",
  } as Image;
}

const box = (x0: number, x1: number) => (x: number, y: number, z: number) =>
  x >= x0 && x < x1 && y >= 4 && y < 12 && z >= 2 && z < 7 ? 1 : 0;

Deno.test("evaluate pairs folders by subject id, writes CSV rows per subject and label plus a summary", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/seg`);
  await Deno.mkdir(`${dir}/ref`);
  for (const [id, shift] of [["s1", 0], ["s2", 2]] as const) {
    await writeNifti(`${dir}/ref/${id}.nii.gz`, labelImage(box(5, 14)));
    await writeNifti(`${dir}/seg/${id}_niftynet_out.nii.gz`, labelImage(box(5 + shift, 14 + shift)));
  }
  const lines = await evaluateCommand({
    seg: `${dir}/seg`,
    ref: `${dir}/ref`,
    evaluations: "dice,jaccard,hausdorff_distance",
    evaluationUnits: "label",
    csv: `${dir}/out.csv`,
  });
  assert(lines[0].startsWith("evaluated 2 subject(s), 2 row(s)"), lines[0]);
  const csv = (await Deno.readTextFile(`${dir}/out.csv`)).trim().split("\n");
  assertEquals(csv[0], "subject_id,label,dice,jaccard,hausdorff_distance");
  // s1 identical; s2 shifted 2 voxels in x: overlap 7 of 9 columns → dice 7/9, jaccard 7/11, Hausdorff 2·0.8 mm.
  assertEquals(csv[1], "s1,1,1,1,0");
  const [, , dice, jaccard, hd] = csv[2].split(",").map(Number);
  assert(Math.abs(dice - 7 / 9) < 1e-12 && Math.abs(jaccard - 7 / 11) < 1e-12, csv[2]);
  assert(Math.abs(hd - 1.6) < 1e-6, csv[2]);
  const summary = await Deno.readTextFile(`${dir}/out_summary.csv`);
  assert(summary.includes("mean,1,"), summary);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("evaluate refuses a subject without reference and images on different grids, naming the files", async () => {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/seg`);
  await Deno.mkdir(`${dir}/ref`);
  await writeNifti(`${dir}/seg/a.nii.gz`, labelImage(box(5, 14)));
  await writeNifti(`${dir}/seg/b.nii.gz`, labelImage(box(5, 14)));
  await writeNifti(`${dir}/ref/a.nii.gz`, labelImage(box(5, 14), 3));
  const base = { seg: `${dir}/seg`, ref: `${dir}/ref`, evaluations: "dice", csv: `${dir}/out.csv` };
  await assertRejects(() => evaluateCommand(base), `subject "b": segmentation "${dir}/seg/b.nii.gz" has no reference`);
  await Deno.remove(`${dir}/seg/b.nii.gz`);
  await assertRejects(() => evaluateCommand(base), "are not on the same voxel grid");
  await assertRejects(
    () => evaluateCommand({ ...base, ref: `${dir}/nope` }),
    `--ref "${dir}/nope": no such file or folder`,
  );
  assertEquals([...Deno.readDirSync(dir)].map((e) => e.name).sort(), ["ref", "seg"], "no CSV written on failure");
  await Deno.remove(dir, { recursive: true });
});
