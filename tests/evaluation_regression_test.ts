import assert from "node:assert/strict";
import { classificationAccuracy, evaluatePair, psnr, rocAuc, ssim } from "../src/evaluation/mod.ts";
import { loadFixture } from "./_util.ts";

interface ImageCase {
  shape: number[];
  seg: number[];
  ref: number[];
  data_range: number;
  mse: number;
  rmse: number;
  mae: number;
  psnr: number;
  ssim: number;
  ssim_range_50: number;
}
interface Fixture {
  volume3d: ImageCase;
  image2d: ImageCase;
  classification: { scores: number[]; truth: number[]; roc_auc: number; predicted: number[]; accuracy: number };
}
const fixture = loadFixture<Fixture>("evaluation_regression");

function close(actual: number, expected: number, rtol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= rtol * Math.abs(expected), `${what}: ${actual} != ${expected}`);
}

for (const name of ["volume3d", "image2d"] as const) {
  const c = fixture[name];
  Deno.test(`${name} ${c.shape}: mse, rmse, mae, psnr, ssim match numpy and skimage.metrics to 1e-9`, () => {
    const [row] = evaluatePair({ data: c.seg, shape: c.shape }, { data: c.ref, shape: c.shape }, {
      evaluations: "mse,rmse,mae,psnr,ssim",
      subjectId: "s1",
    });
    assert.equal(row.label, "");
    for (const metric of ["mse", "rmse", "mae", "psnr", "ssim"] as const) {
      close(row.values[metric], c[metric], 1e-9, metric);
    }
    close(ssim(c.seg, c.ref, c.shape, { dataRange: 50 }), c.ssim_range_50, 1e-9, "ssim data_range 50");
  });
}

Deno.test("psnr of identical images is Infinity; ssim of identical images is 1; ssim rejects axes shorter than 7", () => {
  const x = Array.from({ length: 64 }, (_, i) => Math.sin(i));
  assert.equal(psnr(x, x), Infinity);
  close(ssim(x, x, [8, 8]), 1, 1e-12, "ssim identical");
  assert.throws(() => ssim(x, x, [16, 4]), /every axis of \[16,4\] must be at least 7/);
});

Deno.test("classification accuracy and ROC AUC (with tied scores) match the pairwise-count reference", () => {
  const c = fixture.classification;
  close(rocAuc(c.scores, c.truth), c.roc_auc, 1e-12, "roc_auc");
  close(classificationAccuracy(c.predicted, c.truth), c.accuracy, 1e-12, "accuracy");
  assert.ok(Number.isNaN(rocAuc([0.1, 0.4], [1, 1])));
  assert.throws(() => rocAuc([1], [1, 0]), /1 scores for 2 labels/);
});
