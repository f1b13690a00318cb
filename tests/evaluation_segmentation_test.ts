import assert from "node:assert/strict";
import {
  connectedComponents,
  evaluatePair,
  getMetric,
  metricNames,
  squaredDistanceTransform,
  surface,
} from "../src/evaluation/mod.ts";
import { loadFixture } from "./_util.ts";

type Value = number | string;
interface Case {
  shape: number[];
  spacing: number[];
  seg: number[];
  ref: number[];
  rows: Record<string, Record<string, Value>>;
  cc: Record<string, Record<string, Value>>;
  components: { ref_labels: number[]; ref_full_count: number };
}
const fixture = loadFixture<Record<string, Case> & { skimage_hausdorff_isotropic: number }>(
  "evaluation_segmentation",
);
const cases = { blobs3d: fixture.blobs3d as Case, blobs2d: fixture.blobs2d as Case };

const SEGMENTATION_METRICS = [
  "tp",
  "fp",
  "fn",
  "tn",
  "n_pos_ref",
  "n_neg_ref",
  "n_pos_seg",
  "n_neg_seg",
  "n_union",
  "dice",
  "jaccard",
  "sensitivity",
  "specificity",
  "accuracy",
  "false_positive_rate",
  "positive_predictive_values",
  "negative_predictive_values",
  "informedness",
  "markedness",
  "vol_diff",
  "hausdorff_distance",
  "hausdorff95_distance",
  "average_distance",
  "com_distance",
];
const DISTANCES = new Set(["hausdorff_distance", "hausdorff95_distance", "average_distance", "com_distance"]);

function expectedNumber(v: Value): number {
  return typeof v === "number" ? v : v === "inf" ? Infinity : v === "-inf" ? -Infinity : NaN;
}

/** Compares rows; overlap metrics to 1e-6 (relative), distances to 1e-4 mm (absolute). Returns the worst errors. */
function compareRows(
  actual: { label: string; values: Readonly<Record<string, number>> }[],
  expected: Record<string, Record<string, Value>>,
): { overlap: number; distance: number } {
  // (JSON objects list integer-like keys first, so compare label sets; row order is tested with the CSV.)
  assert.deepEqual(actual.map((r) => r.label).sort(), Object.keys(expected).sort());
  let overlap = 0, distance = 0;
  for (const row of actual) {
    for (const name of SEGMENTATION_METRICS) {
      const a = row.values[name], e = expectedNumber(expected[row.label][name]);
      if (!Number.isFinite(e)) {
        assert.ok(Object.is(a, e) || (Number.isNaN(a) && Number.isNaN(e)), `${row.label} ${name}: ${a} != ${e}`);
        continue;
      }
      const err = Math.abs(a - e);
      if (DISTANCES.has(name)) {
        distance = Math.max(distance, err);
        assert.ok(err <= 1e-4, `${row.label} ${name}: ${a} != ${e}`);
      } else {
        overlap = Math.max(overlap, err / Math.max(1, Math.abs(e)));
        assert.ok(err <= 1e-6 * Math.max(1, Math.abs(e)), `${row.label} ${name}: ${a} != ${e}`);
      }
    }
  }
  return { overlap, distance };
}

for (const [name, c] of Object.entries(cases)) {
  const seg = { data: Int32Array.from(c.seg), shape: c.shape, spacing: c.spacing };
  const ref = { data: Int32Array.from(c.ref), shape: c.shape, spacing: c.spacing };
  Deno.test(
    `${name} (spacing ${c.spacing}): foreground and per-label metrics match numpy/scipy (1e-6 overlap, 1e-4 mm)`,
    () => {
      const rows = evaluatePair(seg, ref, {
        evaluations: SEGMENTATION_METRICS,
        units: ["foreground", "label"],
        labels: [1, 2, 3, 4],
      });
      compareRows(rows, c.rows);
    },
  );
  Deno.test(`${name}: connected-component rows follow the documented matching rule and match scipy`, () => {
    const rows = evaluatePair(seg, ref, { evaluations: SEGMENTATION_METRICS, units: "cc" });
    compareRows(rows, c.cc);
  });
  Deno.test(`${name}: connected components are numbered as scipy.ndimage.label (face and full connectivity)`, () => {
    const mask = Uint8Array.from(c.ref, (v) => (v ? 1 : 0));
    assert.deepEqual([...connectedComponents(mask, c.shape).labels], c.components.ref_labels);
    assert.equal(connectedComponents(mask, c.shape, { connectivity: "full" }).count, c.components.ref_full_count);
  });
}

Deno.test("surface Hausdorff with unit spacing equals scikit-image hausdorff_distance on the surfaces", () => {
  const c = cases.blobs3d;
  const [row] = evaluatePair({ data: c.seg, shape: c.shape }, { data: c.ref, shape: c.shape }, {
    evaluations: "hausdorff_distance",
  });
  assert.ok(Math.abs(row.values.hausdorff_distance - fixture.skimage_hausdorff_isotropic) < 1e-9);
});

Deno.test("exact EDT with anisotropic spacing equals brute force on random 3D and 2D feature sets", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (const [shape, spacing] of [[[7, 9, 6], [0.8, 1.1, 2.5]], [[13, 5], [0.3, 1.7]], [[1, 1, 9], [1, 1, 0.5]]]) {
    const n = shape.reduce((a, b) => a * b, 1);
    for (const density of [0.02, 0.3]) {
      const features = Uint8Array.from({ length: n }, () => (random() < density ? 1 : 0));
      features[Math.floor(random() * n)] = 1;
      const d2 = squaredDistanceTransform(features, shape, spacing);
      const coords = (i: number) => {
        const c: number[] = [];
        for (let d = shape.length - 1; d >= 0; d--) {
          c[d] = i % shape[d];
          i = Math.floor(i / shape[d]);
        }
        return c;
      };
      for (let i = 0; i < n; i++) {
        let best = Infinity;
        const a = coords(i);
        for (let j = 0; j < n; j++) {
          if (!features[j]) continue;
          const b = coords(j);
          best = Math.min(best, a.reduce((s, x, d) => s + ((x - b[d]) * spacing[d]) ** 2, 0));
        }
        assert.ok(Math.abs(d2[i] - best) < 1e-9, `voxel ${i} of [${shape}]: ${d2[i]} != ${best}`);
      }
    }
  }
  assert.ok(squaredDistanceTransform(new Uint8Array(8), [2, 4], [1, 1]).every((v) => v === Infinity));
});

Deno.test("empty masks: both empty give dice 1 and distances 0; one empty gives dice 0 and distances Infinity", () => {
  const shape = [4, 5, 3], empty = new Uint8Array(60), blob = new Uint8Array(60);
  blob[20] = blob[21] = 1;
  const evaluations = [
    "dice",
    "jaccard",
    "hausdorff_distance",
    "hausdorff95_distance",
    "average_distance",
    "sensitivity",
  ];
  const both = evaluatePair({ data: empty, shape }, { data: empty, shape }, { evaluations })[0].values;
  assert.deepEqual({ ...both, sensitivity: 0 }, {
    dice: 1,
    jaccard: 1,
    hausdorff_distance: 0,
    hausdorff95_distance: 0,
    average_distance: 0,
    sensitivity: 0,
  });
  assert.ok(Number.isNaN(both.sensitivity));
  for (const [s, r] of [[empty, blob], [blob, empty]]) {
    const v = evaluatePair({ data: s, shape }, { data: r, shape }, { evaluations })[0].values;
    assert.equal(v.dice, 0);
    assert.equal(v.hausdorff_distance, Infinity);
    assert.equal(v.hausdorff95_distance, Infinity);
    assert.equal(v.average_distance, Infinity);
  }
});

Deno.test("surface of a mask touching the image border includes the border voxels (outside counts as background)", () => {
  const full = new Uint8Array(27).fill(1);
  const s = surface(full, [3, 3, 3]);
  assert.equal(s.reduce((a, b) => a + b, 0), 26); // all but the centre
  assert.equal(s[13], 0);
});

Deno.test("evaluation registry knows NiftyNet names and rejects unknown ones and bad inputs clearly", () => {
  for (
    const name of [
      ...SEGMENTATION_METRICS,
      "Dice",
      "Jaccard",
      "ppv",
      "npv",
      "n_intersection",
      "intersection_over_union",
    ]
  ) {
    assert.equal(getMetric(name).name, name);
  }
  assert.deepEqual(metricNames("regression"), ["mae", "mse", "psnr", "rmse", "ssim"]);
  assert.throws(
    () => getMetric("hausdorf_distance"),
    /unknown evaluation "hausdorf_distance"; did you mean "hausdorff_distance"\?/,
  );
  const v = { data: new Uint8Array(6), shape: [2, 3] };
  assert.throws(
    () => evaluatePair(v, { data: new Uint8Array(6), shape: [3, 2] }, { evaluations: "dice" }),
    /does not match reference shape/,
  );
  assert.throws(
    () => evaluatePair(v, { data: new Uint8Array(5), shape: [2, 3] }, { evaluations: "dice" }),
    /needs 6 voxels but data has 5/,
  );
  assert.throws(
    () => evaluatePair(v, { ...v, spacing: [1, 0] }, { evaluations: "dice" }),
    /spacing \[1,0\] must be 2 positive/,
  );
  assert.throws(() => evaluatePair(v, v, { evaluations: "dice", units: "blob" }), /unknown unit "blob"/);
  assert.throws(() => evaluatePair(v, v, { evaluations: "dice,mse" }), /cannot mix/);
  assert.throws(() => evaluatePair(v, v, { evaluations: "roc_auc" }), /across subjects/);
});
