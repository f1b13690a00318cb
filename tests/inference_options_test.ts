/**
 * The inference options against numpy/scipy references (tests/reference/inference_options.py): window blending of
 * the border-cropped regions, test-time flips with variance/entropy maps, largest-component and hole-filling
 * post-processing, and label tables (FreeSurfer LUT, NiiVue JSON) with the NIfTI label intent.
 */
import { deepStrictEqual as assertEquals, ok as assert, throws as assertThrows } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import {
  BlendAggregator,
  type ChannelVolume,
  cropWindow,
  GridAggregator,
  gridStarts,
  type Spatial3,
} from "../src/data/mod.ts";
import { flipCombinations, predictWithFlips } from "../src/inference/mod.ts";
import { fillHoles, keepLargestComponent } from "../src/evaluation/mod.ts";
import {
  encodeNifti1,
  formatColormapJson,
  formatFreeSurferLut,
  formatFslLut,
  parseLabelTable,
  parseNifti,
} from "../src/io/mod.ts";
import { parseConfig } from "../src/engine/config/mod.ts";
import { labelPostprocess } from "../src/applications/_postprocess.ts";
import { assertClose, loadFixture } from "./_util.ts";

await useBackend("cpu");

interface Fixture {
  blending: {
    shape: Spatial3;
    window: Spatial3;
    border: number;
    overlap: number;
    volume: number[];
    starts: Spatial3[];
    blended: Record<"none" | "constant" | "gaussian", number[]>;
  };
  flips: {
    shape: Spatial3;
    cin: number;
    classes: number;
    x: number[];
    W: number[];
    ramp: number[];
    log_mean: number[];
    variance: number[];
    entropy: number[];
    raw_axes: number[];
    raw_mean: number[];
    raw_variance: number[];
  };
  postprocess: Record<"3d" | "2d", {
    shape: [number, number, number];
    seg: number[];
    all_all: number[];
    keep1_fill2: number[];
    foreground: number[];
    fill_all: number[];
    components_before: Record<string, number>;
  }>;
}
const fixture = loadFixture<Fixture>("inference_options");

Deno.test("grid starts with window_overlap 0.5 and border 1 are the reference's (step floor((6-2)*0.5) = 2)", () => {
  const b = fixture.blending;
  assertEquals(
    gridStarts(b.shape, { spatialWindowSize: { image: b.window }, border: [b.border], overlap: b.overlap }),
    b.starts,
  );
});

for (const mode of ["none", "constant", "gaussian"] as const) {
  Deno.test(`window_blending ${mode}: the border-cropped windows combine as numpy does (disagreeing overlaps)`, () => {
    const b = fixture.blending;
    const volume: ChannelVolume = { data: Float32Array.from(b.volume), shape: b.shape, channels: 2 };
    const options = { shape: b.shape, channels: 2, border: [b.border] };
    const aggregator = mode === "none" ? new GridAggregator(options) : new BlendAggregator({ ...options, mode });
    b.starts.forEach((start, k) => {
      const w = cropWindow(volume, start, b.window);
      aggregator.add({ ...w, data: w.data.map((v) => v + 0.1 * k) }, start, b.window);
    });
    assertClose(aggregator.result().data, b.blended[mode], { rtol: 1e-5, atol: 1e-5, what: mode });
  });
}

Deno.test("blending refuses an output smaller than the window minus 2*border, naming the border that fits", () => {
  const a = new BlendAggregator({ shape: [10, 10, 10], border: [0] });
  const small: ChannelVolume = { data: new Float32Array(4 * 4 * 4), shape: [4, 4, 4], channels: 1 };
  assertThrows(() => a.add(small, [0, 0, 0], [6, 6, 6]), /set \[INFERENCE\] border to at least 1,1,1/);
});

/** The reference's toy network: logits = x·W + ramp (position dependent, so flips change its answer). */
function toyNet(f: Fixture["flips"]) {
  const W = tf.tensor2d(f.W, [f.cin, f.classes]);
  const ramp = tf.tensor4d(f.ramp, [...f.shape, f.classes]);
  const predict = (x: tf.Tensor) => {
    const flat = tf.reshape(x, [-1, f.cin]);
    return tf.add(tf.reshape(tf.matMul(flat, W), [...x.shape.slice(0, -1), f.classes]), ramp);
  };
  return { predict, dispose: () => tf.dispose([W, ramp]) };
}

Deno.test("test-time flips over x, y, z (8 passes): log mean probability, variance and entropy equal numpy's", () => {
  const f = fixture.flips;
  assertEquals(flipCombinations([2, 0, 1]).length, 8);
  const net = toyNet(f);
  const before = tf.memory().numTensors;
  const x = tf.tensor5d(f.x, [2, ...f.shape, f.cin]);
  const host = tf.tidy(() => {
    const r = predictWithFlips(x, net.predict, {
      axes: [0, 1, 2],
      probabilities: true,
      uncertainty: ["variance", "entropy"],
    });
    return [r.output.dataSync(), r.variance!.dataSync(), r.entropy!.dataSync()].map((d) => Float32Array.from(d));
  });
  x.dispose();
  assertEquals(tf.memory().numTensors, before, "no tensor left behind");
  net.dispose();
  assertClose(host[0], f.log_mean, { rtol: 1e-5, atol: 1e-5, what: "log mean probability" });
  assertClose(host[1], f.variance, { rtol: 1e-4, atol: 1e-7, what: "variance" });
  assertClose(host[2], f.entropy, { rtol: 1e-5, atol: 1e-6, what: "entropy" });
});

Deno.test("test-time flips of raw outputs (regression) average them; entropy needs class probabilities", () => {
  const f = fixture.flips;
  const net = toyNet(f);
  const x = tf.tensor5d(f.x, [2, ...f.shape, f.cin]);
  const [mean, variance] = tf.tidy(() => {
    const r = predictWithFlips(x, net.predict, { axes: f.raw_axes, probabilities: false, uncertainty: ["variance"] });
    return [Float32Array.from(r.output.dataSync()), Float32Array.from(r.variance!.dataSync())];
  });
  assertClose(mean, f.raw_mean, { rtol: 1e-5, atol: 1e-5, what: "mean" });
  assertClose(variance, f.raw_variance, { rtol: 1e-4, atol: 1e-5, what: "variance" });
  assertThrows(
    () => predictWithFlips(x, net.predict, { axes: [0], probabilities: false, uncertainty: ["entropy"] }),
    /entropy needs class probabilities/,
  );
  x.dispose();
  net.dispose();
});

for (const name of ["3d", "2d"] as const) {
  Deno.test(`post-processing (${name}): largest 26-connected components and filled holes equal scipy's`, () => {
    const c = fixture.postprocess[name];
    assert(Object.values(c.components_before).some((n) => n > 1), "the map has labels in several pieces");
    const run = (f: (d: Int32Array) => void) => {
      const d = Int32Array.from(c.seg);
      f(d);
      return Array.from(d);
    };
    assertEquals(run((d) => fillHoles(keepLargestComponent(d, c.shape, "per-label"), c.shape, [1, 2, 3])), c.all_all);
    assertEquals(
      run((d) => fillHoles(keepLargestComponent(d, c.shape, "per-label", { labels: [1] }), c.shape, [2])),
      c.keep1_fill2,
    );
    assertEquals(run((d) => keepLargestComponent(d, c.shape, "foreground")), c.foreground);
    assertEquals(run((d) => fillHoles(d, c.shape, [1, 2, 3])), c.fill_all);
  });
}

function configWith(inference: string): ReturnType<typeof parseConfig> {
  return parseConfig(`[NETWORK]\nname = toynet\n[INFERENCE]\n${inference}\n[SEGMENTATION]\nnum_classes = 4\n`, {
    source: "test.ini",
  });
}

Deno.test("keep_largest_component = all and fill_holes = all on a [x, y, z] volume equal scipy on the [z, y, x] array", () => {
  const c = fixture.postprocess["3d"];
  const post = labelPostprocess(configWith("keep_largest_component = all\nfill_holes = all"), { labelOutput: true })!;
  const [nz, ny, nx] = c.shape;
  const out = post({ data: Float32Array.from(c.seg), shape: [nx, ny, nz], channels: 1 });
  assertEquals(Array.from(out.data), c.all_all);
  assertEquals(labelPostprocess(configWith(""), { labelOutput: true }), undefined);
});

Deno.test("post-processing keys are refused for probability outputs and in impossible combinations, in one line", () => {
  assertThrows(() => labelPostprocess(configWith("fill_holes = 1"), { labelOutput: false }), {
    message: '"test.ini": [INFERENCE] fill_holes needs label maps (it does not apply with output_prob)',
  });
  assertThrows(
    () => labelPostprocess(configWith("keep_largest_component = foreground, 2"), { labelOutput: true }),
    /foreground cannot be combined/,
  );
  assertThrows(() => configWith("keep_largest_component = biggest"), /keep_largest_component/);
  assertThrows(() => configWith("window_overlap = 1"), /window_overlap/);
  assertThrows(() => configWith("window_blending = median"), /window_blending/);
  assertThrows(() => configWith("uncertainty_map = stdev"), /uncertainty_map/);
});

const LUT = `#No. Label Name:   R   G   B   A
0   Unknown        0   0   0   0
2   Left-Cerebral-White-Matter 245 245 245 0
3   Left-Cerebral-Cortex       205  62  78 0
`;

Deno.test("label tables: FreeSurfer LUT and NiiVue/brainchop JSON parse to the same entries and write back", () => {
  const fromLut = parseLabelTable(LUT, "lut.txt");
  assertEquals(fromLut.map((e) => [e.value, e.name, [...e.rgb]]), [
    [0, "Unknown", [0, 0, 0]],
    [2, "Left-Cerebral-White-Matter", [245, 245, 245]],
    [3, "Left-Cerebral-Cortex", [205, 62, 78]],
  ]);
  const json = formatColormapJson(fromLut);
  assertEquals(JSON.parse(json), {
    R: [0, 245, 205],
    G: [0, 245, 62],
    B: [0, 245, 78],
    A: [0, 255, 255],
    I: [0, 2, 3],
    labels: ["Unknown", "Left-Cerebral-White-Matter", "Left-Cerebral-Cortex"],
  });
  assertEquals(parseLabelTable(json, "c.json"), fromLut);
  assertEquals(parseLabelTable(formatFreeSurferLut(fromLut), "again.txt"), fromLut);
  // FSLeyes reads `value r g b name` with colours in 0-1 (fsleyes LookupTable._load).
  assertEquals(
    formatFslLut(fromLut).split("\n")[2],
    "3 0.803922 0.243137 0.305882 Left-Cerebral-Cortex",
  );
  // brainchop's colormap.json has no I: values are the positions.
  const brainchop = parseLabelTable('{"R":[0,255],"G":[0,255],"B":[0,255],"labels":["bg","WM"]}', "colormap.json");
  assertEquals(brainchop.map((e) => e.value), [0, 1]);
});

Deno.test("label tables: bad files give one line naming the file, the line and what was expected", () => {
  assertThrows(() => parseLabelTable("1 liver 300 0 0 0\n", "t.txt"), {
    message: 'label table "t.txt": value 1 has colour 300,0,0, expected 0-255 integers',
  });
  assertThrows(
    () => parseLabelTable("# header\n1 liver 3\n", "t.txt"),
    /"t.txt" line 2: expected "value name R G B \[A\]"/,
  );
  assertThrows(() => parseLabelTable("1 a 0 0 0\n1 b 0 0 0\n", "t.txt"), /value 1 is listed twice/);
  assertThrows(() => parseLabelTable('{"R":[0],"G":[0],"B":[0,1],"labels":["x"]}', "c.json"), /"B" has 2 entries/);
});

Deno.test("a label map is written with NIfTI intent NIFTI_INTENT_LABEL (1002), its intent name and aux_file", () => {
  const image = {
    data: new Int16Array([0, 1, 2, 1]),
    shape: [4, 1, 1, 1, 1],
    ndim: 3,
    affine: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
    pixdim: [1, 1, 1],
    datatype: "int16",
    affineSource: "sform",
  } as const;
  // deno-lint-ignore no-explicit-any
  const bytes = encodeNifti1(image as any, { intent: { code: 1002, name: "labels" }, auxFile: "label_lut.txt" });
  const view = new DataView(bytes.buffer);
  assertEquals(view.getInt16(68, true), 1002);
  assertEquals(new TextDecoder().decode(bytes.subarray(328, 334)), "labels");
  assertEquals(new TextDecoder().decode(bytes.subarray(228, 241)), "label_lut.txt");
  const back = parseNifti(bytes, "x.nii");
  assertEquals([back.header?.intentCode, back.header?.intentName, back.header?.auxFile], [
    1002,
    "labels",
    "label_lut.txt",
  ]);
});
