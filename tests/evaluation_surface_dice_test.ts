/**
 * Normalised surface Dice (`surface_dice`) against the numpy/scipy reference of MONAI's definition
 * (tests/reference/evaluation_surface_dice.py), its empty-mask rules, tolerance checks, and the CLI flag.
 */
import { deepStrictEqual as assertEquals, ok as assert, throws as assertThrows } from "node:assert/strict";
import { evaluatePair, getMetric, surfaceDice, surfaceDistances } from "../src/evaluation/mod.ts";
import { type Image, writeNifti } from "../src/io/mod.ts";
import { loadFixture } from "./_util.ts";

interface Case {
  shape: number[];
  spacing: number[];
  seg: number[];
  ref: number[];
  rows: Record<string, (number | string)[]>;
}
const fixture = loadFixture<{ tolerances: number[]; blobs3d: Case; blobs2d: Case; slab: Case }>(
  "evaluation_surface_dice",
);

for (const name of ["blobs3d", "blobs2d", "slab"] as const) {
  Deno.test(`surface_dice equals the scipy reference of MONAI's definition on ${name} at 6 tolerances, per label`, () => {
    const c = fixture[name];
    const seg = { data: c.seg, shape: c.shape, spacing: c.spacing };
    const ref = { data: c.ref, shape: c.shape, spacing: c.spacing };
    const labels = Object.keys(c.rows).filter((k) => k !== "foreground").map(Number);
    fixture.tolerances.forEach((tolerance, t) => {
      const rows = evaluatePair(seg, ref, {
        evaluations: ["surface_dice"],
        units: ["foreground", "label"],
        labels,
        surfaceTolerance: tolerance,
      });
      for (const row of rows) {
        const expected = c.rows[row.label][t];
        const got = row.values.surface_dice;
        if (expected === "nan") assert(Number.isNaN(got), `${row.label} @${tolerance}: ${got}, expected NaN`);
        else assert(Math.abs(got - Number(expected)) < 1e-12, `${row.label} @${tolerance}: ${got} != ${expected}`);
      }
    });
  });
}

Deno.test("surface_dice: both masks empty gives NaN, one empty gives 0, identical masks give 1 at tolerance 0", () => {
  const shape = [4, 5, 6], spacing = [1, 1, 1];
  const empty = new Uint8Array(120), cube = new Uint8Array(120);
  for (let z = 1; z < 3; z++) for (let y = 1; y < 4; y++) for (let x = 2; x < 5; x++) cube[(z * 5 + y) * 6 + x] = 1;
  assert(Number.isNaN(surfaceDice(surfaceDistances(empty, empty, shape, spacing), 1)));
  assertEquals(surfaceDice(surfaceDistances(cube, empty, shape, spacing), 1), 0);
  assertEquals(surfaceDice(surfaceDistances(empty, cube, shape, spacing), 100), 0);
  assertEquals(surfaceDice(surfaceDistances(cube, cube, shape, spacing), 0), 1);
});

Deno.test("surface_dice is in the metric registry; a negative or infinite tolerance is refused in one line", () => {
  assertEquals(getMetric("surface_dice").kind, "segmentation");
  const v = { data: [0, 1, 1, 0], shape: [4] };
  assertThrows(() => evaluatePair(v, v, { evaluations: "surface_dice", surfaceTolerance: -1 }), {
    message: "surface tolerance -1: expected a finite number of mm >= 0",
  });
  assertThrows(() => evaluatePair(v, v, { evaluations: "surface_dice", surfaceTolerance: Infinity }), /Infinity/);
});

/** A 12×10×6 label image at 1×1×3 mm (x fastest) with a box from x0 to x1. */
function boxImage(x0: number, x1: number): Image {
  const [nx, ny, nz] = [12, 10, 6];
  const data = new Uint8Array(nx * ny * nz);
  for (let z = 1; z < 5; z++) for (let y = 2; y < 8; y++) for (let x = x0; x < x1; x++) data[x + nx * (y + ny * z)] = 1;
  return {
    data,
    shape: [nx, ny, nz, 1, 1],
    ndim: 3,
    affine: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 3, 0], [0, 0, 0, 1]],
    pixdim: [1, 1, 3],
    datatype: "uint8",
    affineSource: "sform",
  } as Image;
}

Deno.test("cli evaluate --surface-tolerance sets surface_dice's tolerance; a bad value is one clear line", async () => {
  const dir = await Deno.makeTempDir();
  await writeNifti(`${dir}/ref.nii.gz`, boxImage(3, 9));
  await writeNifti(`${dir}/seg.nii.gz`, boxImage(5, 11)); // shifted 2 mm along x
  const run = async (...extra: string[]) => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "-A",
        "--quiet",
        new URL("../cli.ts", import.meta.url).pathname,
        "evaluate",
        "--seg",
        `${dir}/seg.nii.gz`,
        "--ref",
        `${dir}/ref.nii.gz`,
        "--evaluations",
        "surface_dice",
        "--csv",
        `${dir}/o.csv`,
        ...extra,
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const csv = out.code === 0 ? await Deno.readTextFile(`${dir}/o.csv`) : "";
    return {
      code: out.code,
      stderr: new TextDecoder().decode(out.stderr),
      value: Number(csv.split("\n")[1]?.split(",")[2]),
    };
  };
  // The values themselves are checked against scipy above; here: the flag reaches the metric.
  const expected = (tolerance: number) => {
    const a = boxImage(5, 11), b = boxImage(3, 9);
    const d = surfaceDistances(a.data as Uint8Array, b.data as Uint8Array, [6, 10, 12], [3, 1, 1]);
    return surfaceDice(d, tolerance);
  };
  const byDefault = await run();
  assertEquals(byDefault.code, 0, byDefault.stderr);
  assertEquals(byDefault.value, expected(1));
  const wide = await run("--surface-tolerance", "2");
  assertEquals(wide.value, expected(2));
  assert(wide.value > byDefault.value && wide.value === 1, `${wide.value} vs ${byDefault.value}`);
  const bad = await run("--surface-tolerance", "-2");
  assert(bad.code !== 0 && bad.stderr.includes('expected a distance in mm >= 0, got "-2"'), bad.stderr);
  await Deno.remove(dir, { recursive: true });
});
