import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  applyPadding,
  computeLandmarks,
  denormaliseLabels,
  foregroundMask,
  formatHistogramRef,
  formatLabelMapping,
  invertLinear,
  labelMappingFrom,
  learnLabelMapping,
  multimodMask,
  normaliseLabels,
  otsuThreshold,
  paddingFor,
  type PaddingMode,
  padVolume,
  parseHistogramRef,
  preprocessSubject,
  rescaleIntensity,
  standardiseHistogram,
  trainLandmarks,
  undoPreprocessing,
  unpadVolume,
  unwhiten,
  whiten,
} from "../src/data/preprocess/mod.ts";
import type { ChannelVolume, Spatial3 } from "../src/data/types.ts";
import { readNifti } from "../src/io/nifti_read.ts";
import { assertClose, assertThrows, loadFixture } from "./_util.ts";
import { ANATOMICAL, assertSameArray, fileExists, randomVolume } from "./_data_helpers.ts";

interface Fixture {
  pad: {
    input: number[];
    shape: Spatial3;
    before: Spatial3;
    after: Spatial3;
    modes: Record<string, { shape: number[]; data: number[] }>;
  };
  mask: {
    input: number[];
    shape: Spatial3;
    otsu: number;
    fixed_threshold: number;
    masks: Record<string, { threshold: number; mask: number[] }>;
  };
  whiten: { mean: number; std: number; output: number[] };
  nyul: {
    train: { data: number[]; mask: number[] }[];
    landmarks_per_image: number[][];
    reference: number[];
    test: number[];
    standardised: Record<string, number[]>;
  };
  rescale: { lo: number; hi: number; output: number[] };
}
const fx = loadFixture<Fixture>("data_preprocess");

Deno.test("padding matches numpy.pad in all nine modes, including pads longer than the axis", () => {
  const v: ChannelVolume = { data: Float32Array.from(fx.pad.input), shape: fx.pad.shape, channels: 1 };
  for (const [mode, expected] of Object.entries(fx.pad.modes)) {
    const out = applyPadding(v, { before: fx.pad.before, after: fx.pad.after }, mode as PaddingMode);
    assertEquals([...out.shape], expected.shape, mode);
    assertClose(out.data, expected.data, { rtol: 1e-6, atol: 1e-6, what: `pad ${mode}` });
    assertSameArray(unpadVolume(out, { before: fx.pad.before, after: fx.pad.after }).data, v.data, `unpad ${mode}`);
  }
});

Deno.test("volume_padding_size / volume_padding_to_size give NiftyNet's padding, 2D volumes keep z = 1", () => {
  assertEquals(paddingFor([10, 10, 1], { volumePaddingSize: [3] }), { before: [3, 3, 0], after: [3, 3, 0] });
  assertEquals(paddingFor([10, 7, 5], { volumePaddingToSize: [13, 7, 8] }), { before: [1, 0, 1], after: [2, 0, 2] });
  assertThrows(
    () => padVolume(randomVolume([2, 2, 2], 1, 1), { volumePaddingMode: "bogus" as PaddingMode }),
    `invalid volume_padding_mode "bogus"`,
  );
});

Deno.test({
  name: "padding then unpadding returns nibabel's anatomical.nii exactly (minimum mode, 2 channels)",
  ignore: !fileExists(ANATOMICAL),
  fn: async () => {
    const img = await readNifti(ANATOMICAL);
    const one = Float32Array.from(img.data);
    const data = new Float32Array(one.length * 2);
    data.set(one);
    data.set(one.map((v) => -v), one.length);
    const v: ChannelVolume = { data, shape: [img.shape[0], img.shape[1], img.shape[2]], channels: 2 };
    const { volume, padding } = padVolume(v, { volumePaddingSize: [4, 5, 6] });
    assertEquals(volume.shape, [41, 51, 37]);
    assertSameArray(unpadVolume(volume, padding).data, data, "unpadded");
  },
});

Deno.test("otsu threshold and foreground masks (dilated twice, holes filled) match numpy/scipy", () => {
  const shape = fx.mask.shape;
  const data = Float64Array.from(fx.mask.input);
  assertClose([otsuThreshold(data)], [fx.mask.otsu], { rtol: 1e-9 });
  for (const [type, m] of Object.entries(fx.mask.masks)) {
    const mask = foregroundMask(data, shape, {
      foregroundType: type as "otsu_plus",
      threshold: fx.mask.fixed_threshold,
    });
    assertSameArray(mask, m.mask, `mask ${type}`);
  }
  assertThrows(
    () => foregroundMask(new Float32Array(8), [2, 2, 2], { foregroundType: "threshold_plus" }),
    "no foreground",
  );
});

Deno.test("multi-modal masks combine with and/or; an all-zero modality takes no part", () => {
  const shape: Spatial3 = [12, 11, 9];
  const n = 12 * 11 * 9;
  const data = new Float32Array(3 * n);
  data.set(fx.mask.input);
  for (let i = 0; i < n; i++) data[n + i] = i % 12 < 6 ? 100 : 0;
  const v: ChannelVolume = { data, shape, channels: 3 };
  const opts = { foregroundType: "threshold_plus" as const, threshold: 50 };
  const a = foregroundMask(data.subarray(0, n), shape, opts), b = foregroundMask(data.subarray(n, 2 * n), shape, opts);
  const and = multimodMask(v, { ...opts, multimodForegroundType: "and" });
  const or = multimodMask(v, { ...opts, multimodForegroundType: "or" });
  for (let i = 0; i < n; i++) {
    assertEquals(and[0][i], a[i] && b[i] ? 1 : 0);
    assertEquals(or[1][i], a[i] || b[i] ? 1 : 0);
  }
  assert(and[2].every((x) => x === 0));
});

Deno.test("whitening over a foreground mask matches numpy and unwhiten restores the input", () => {
  const shape = fx.mask.shape;
  const v: ChannelVolume = { data: Float32Array.from(fx.mask.input), shape, channels: 1 };
  const mask = Uint8Array.from(fx.mask.masks.otsu_plus.mask);
  const { volume, stats } = whiten(v, { masks: [mask] });
  assertClose(stats.mean, [fx.whiten.mean], { rtol: 1e-9 });
  assertClose(stats.std, [fx.whiten.std], { rtol: 1e-9 });
  assertClose(volume.data, fx.whiten.output, { rtol: 1e-5, atol: 1e-5 });
  assertClose(unwhiten(volume, stats).data, v.data, { rtol: 1e-5, atol: 1e-4 });
});

Deno.test("Nyul landmarks, trained reference and standardisation (percentile/quartile/median) match numpy", () => {
  fx.nyul.train.forEach((t, i) => {
    assertClose(computeLandmarks(t.data, t.mask, [0.01, 0.99]), fx.nyul.landmarks_per_image[i], {
      rtol: 1e-9,
      what: `image ${i}`,
    });
  });
  const ref = trainLandmarks(fx.nyul.train);
  assertClose(ref, fx.nyul.reference, { rtol: 1e-9 });
  for (const [kind, expected] of Object.entries(fx.nyul.standardised)) {
    const out = standardiseHistogram(fx.nyul.test, undefined, ref, { normType: kind as "median" });
    assertClose(out, expected, { rtol: 1e-5, atol: 1e-4, what: kind });
  }
  const parsed = parseHistogramRef(formatHistogramRef(new Map([["T1", ref]])));
  assertClose(parsed.get("T1")!, ref, { rtol: 1e-12 });
  assertThrows(() => parseHistogramRef("T1 1 2 x\n", "ref.txt"), `"ref.txt" line 1`);
});

Deno.test("percentile rescale matches numpy and inverts inside the clipped range", () => {
  const { data, map } = rescaleIntensity(fx.nyul.test, { lowerPercentile: 2, upperPercentile: 98 });
  assertClose(data, fx.rescale.output, { rtol: 1e-5, atol: 1e-6 });
  const back = invertLinear(data, map);
  fx.nyul.test.forEach((v, i) => {
    if (v > fx.rescale.lo && v < fx.rescale.hi) assert(Math.abs(back[i] - v) < 1e-3 * Math.abs(v) + 1e-3);
  });
});

Deno.test("label normalisation maps arbitrary values to 0..K-1 and back, unknown values named", async () => {
  const labels = [Float32Array.from([0, 4, 4, 250]), Float32Array.from([7, 0])];
  const mapping = learnLabelMapping(labels);
  assertEquals(mapping, { from: [0, 4, 7, 250], to: [0, 1, 2, 3] });
  const norm = normaliseLabels(labels[0], mapping);
  assertEquals(Array.from(norm), [0, 1, 1, 3]);
  assertEquals(Array.from(denormaliseLabels(norm, mapping)), [0, 4, 4, 250]);
  assertThrows(() => normaliseLabels([5], mapping, "sub01 label"), "sub01 label: value 5 is not among");
  assertEquals(labelMappingFrom("label", parseHistogramRef(formatLabelMapping("label", mapping))), mapping);
  if (fileExists(ANATOMICAL)) {
    // Real data: quantise the T1 into a handful of labels, normalise and restore.
    const img = await readNifti(ANATOMICAL);
    const q = Float32Array.from(img.data, (v) => Math.round(Number(v) / 100) * 100);
    const m = learnLabelMapping([q]);
    assertSameArray(denormaliseLabels(normaliseLabels(q, m), m), q, "restored labels");
  }
});

Deno.test("subject chain: padding, then Nyul + masked whitening of the padded image, labels to 0..K-1; undo restores", () => {
  const shape = fx.mask.shape;
  const image: ChannelVolume = { data: Float32Array.from(fx.mask.input), shape, channels: 1 };
  const label: ChannelVolume = {
    data: Float32Array.from(fx.mask.masks.otsu_plus.mask, (v) => v * 5),
    shape,
    channels: 1,
  };
  const mapping = learnLabelMapping([label.data]);
  const landmarks = [trainLandmarks([{ data: image.data }])];
  const { volumes, record } = preprocessSubject({ image, label }, {
    normalisation: true,
    landmarks,
    whitening: true,
    normaliseForegroundOnly: true,
    labelMapping: mapping,
    volumePaddingSize: [2],
  });
  assertEquals(volumes.image.shape, [16, 15, 13]);
  assert(volumes.label.data.every((v) => v === 0 || v === 1));
  // NiftyNet pads first: the foreground mask of the padded image has mean 0 and std 1 after whitening.
  const paddedMask = multimodMask(applyPadding(image, record.padding, "minimum"), { foregroundType: "otsu_plus" })[0];
  const fg = [...volumes.image.data].filter((_, i) => paddedMask[i] > 0);
  const mean = fg.reduce((a, b) => a + b, 0) / fg.length;
  const sd = Math.sqrt(fg.reduce((a, b) => a + (b - mean) ** 2, 0) / fg.length);
  assert(Math.abs(mean) < 1e-4 && Math.abs(sd - 1) < 1e-4, `mean ${mean} sd ${sd}`);
  assertSameArray(undoPreprocessing(volumes.label, record, { labels: true }).data, label.data, "labels back");
  assertThrows(
    () => preprocessSubject({ image }, { normalisation: true }),
    "histogram landmarks cover 0 of 1 channels",
  );
});
