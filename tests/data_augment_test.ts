import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  augmentVolumes,
  biasField,
  flipVolume,
  gaussianBlur,
  gaussianNoise,
  randomAffine,
  randomBiasField,
  randomElastic,
  randomElasticField,
  randomFlip,
  randomGamma,
  rotationScalingMatrix,
  warpAffine,
  warpByField,
} from "../src/data/augment/mod.ts";
import type { ChannelVolume, Spatial3 } from "../src/data/types.ts";
import { assertClose, loadFixture } from "./_util.ts";
import { assertSameArray, randomVolume } from "./_data_helpers.ts";

interface Fixture {
  shape: Spatial3;
  volume: number[];
  labels: number[];
  degrees: [number, number, number];
  scale: [number, number, number];
  matrix: number[][];
  affine: Record<string, number[]>;
  affine_labels: number[];
  shape2d: Spatial3;
  volume2d: number[];
  affine2d: number[];
  field: number[][];
  warp: Record<string, number[]>;
  blur: number[];
}
const fx = loadFixture<Fixture>("data_augment");
const vol: ChannelVolume = { data: Float32Array.from(fx.volume), shape: fx.shape, channels: 1 };

Deno.test("rotation+scaling about the centre matches scipy.ndimage.affine_transform (orders 0, 1, 3, labels, 2D)", () => {
  const m = rotationScalingMatrix(fx.degrees, fx.scale);
  assertClose(m.flat(), fx.matrix.flat(), { rtol: 1e-12, atol: 1e-15 });
  for (const order of [0, 1, 3] as const) {
    assertClose(warpAffine(vol, m, { order }).data, fx.affine[order], {
      rtol: 1e-5,
      atol: 1e-5,
      what: `order ${order}`,
    });
  }
  const labels: ChannelVolume = { data: Float32Array.from(fx.labels), shape: fx.shape, channels: 1 };
  assertSameArray(warpAffine(labels, m, { order: 0 }).data, fx.affine_labels, "labels");
  const v2: ChannelVolume = { data: Float32Array.from(fx.volume2d), shape: fx.shape2d, channels: 1 };
  const m2 = rotationScalingMatrix([0, 0, -30], [1, 1, 1]);
  assertClose(warpAffine(v2, m2, { order: 1 }).data, fx.affine2d, { rtol: 1e-5, atol: 1e-5, what: "2D" });
});

Deno.test("elastic warp along a displacement field matches scipy.ndimage.map_coordinates (orders 0, 1, 3)", () => {
  const n = fx.volume.length;
  const data = new Float32Array(3 * n);
  fx.field.forEach((f, i) => data.set(f, i * n));
  for (const order of [0, 1, 3] as const) {
    const out = warpByField(vol, { shape: fx.shape, data }, { order });
    assertClose(out.data, fx.warp[order], { rtol: 1e-5, atol: 1e-5, what: `order ${order}` });
  }
});

Deno.test("gaussian blur matches scipy.ndimage.gaussian_filter (reflect, truncate 4)", () => {
  assertClose(gaussianBlur(vol, [1.2, 0.7, 0]).data, fx.blur, { rtol: 1e-5, atol: 1e-6 });
});

Deno.test("spatial augmentation moves image and label together; labels stay in the label set", () => {
  // Image = label * 10: after the same warp (image nearest too), image must still equal label * 10 everywhere.
  const label = { data: Float32Array.from(fx.labels), shape: fx.shape, channels: 1 };
  const image = { ...label, data: label.data.map((v) => v * 10) };
  for (let seed = 0; seed < 5; seed++) {
    const out = augmentVolumes({ image, label }, {
      randomFlippingAxes: [0, 1, 2],
      rotationAngle: [-30, 30],
      scalingPercentage: [-15, 15],
      doElasticDeformation: true,
      proportionToDeform: 1,
      deformationSigma: 2,
      order: 0,
      nearestRoles: ["label"],
    }, seed);
    assertSameArray(out.image.data, out.label.data.map((v) => v * 10), `seed ${seed}`);
    assert(out.label.data.every((v) => [0, 1, 2, 3].includes(v)));
  }
  const a = randomAffine({ image: vol }, { rotationAngle: [-10, 10], seed: 3 });
  const b = randomAffine({ image: vol }, { rotationAngle: [-10, 10], seed: 3 });
  assertSameArray(a.image.data, b.image.data, "seeded rotation");
  assert(a.image.data.some((v, i) => v !== vol.data[i]));
});

Deno.test("flipping twice is the identity and random flips draw the same axes for every role", () => {
  const v = randomVolume([4, 3, 5], 2, 1);
  assertSameArray(flipVolume(flipVolume(v, [0, 2]), [0, 2]).data, v.data, "double flip");
  assertEquals(flipVolume(v, [0]).data[0], v.data[3]);
  const out = randomFlip({ image: v, label: v }, { randomFlippingAxes: [0, 1, 2], seed: 7 });
  assertSameArray(out.image.data, out.label.data, "same flip");
});

Deno.test("elastic field is smooth, seeded and flat along z in 2D; proportion_to_deform 0 leaves volumes alone", () => {
  const f = randomElasticField([20, 20, 1], { numCtrlPoints: 4, deformationSigma: 3, seed: 2 });
  const n = 400;
  assert(f.data.subarray(2 * n).every((v) => v === 0));
  let maxStep = 0;
  for (let i = 1; i < 20; i++) maxStep = Math.max(maxStep, Math.abs(f.data[i] - f.data[i - 1]));
  assert(maxStep < 3, `field jumps ${maxStep}`);
  assertEquals(randomElasticField([20, 20, 1], { seed: 2, deformationSigma: 3 }).data, f.data);
  const v = randomVolume([6, 6, 6], 1, 1);
  assert(randomElastic({ image: v }, { proportionToDeform: 0, seed: 1 }).image === v);
});

Deno.test("bias field is exp of the polynomial; noise, gamma and blur keep shapes and are seeded", () => {
  const f = biasField([3, 3, 1], [0.5, 0, 0, 0], 1);
  assert(f.every((v) => Math.abs(v - Math.exp(0.5)) < 1e-6));
  const g = biasField([3, 1, 1], [0, 0, 0, 1], 1);
  assertClose(g, [Math.exp(-1), 1, Math.exp(1)], { rtol: 1e-6 });
  const v = randomVolume([5, 5, 5], 1, 4);
  const b1 = randomBiasField(v, { biasFieldRange: [-0.3, 0.3], seed: 1 });
  assertSameArray(b1.data, randomBiasField(v, { biasFieldRange: [-0.3, 0.3], seed: 1 }).data, "seeded bias");
  const noisy = gaussianNoise(v, { std: 0.1, seed: 1 });
  let ss = 0;
  noisy.data.forEach((x, i) => (ss += (x - v.data[i]) ** 2));
  assert(Math.abs(Math.sqrt(ss / 125) - 0.1) < 0.03);
  const gm = randomGamma(v, { logGammaRange: [0.5, 0.5] });
  const lo = Math.min(...v.data), hi = Math.max(...v.data);
  assertClose(gm.data, v.data.map((x) => ((x - lo) / (hi - lo)) ** Math.exp(0.5) * (hi - lo) + lo), {
    rtol: 1e-5,
    atol: 1e-6,
  });
});
