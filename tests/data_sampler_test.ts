import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import {
  balancedSampler,
  fromBatchData,
  gridSampler,
  gridStarts1d,
  linearInterpolationSampler,
  randomVectorSampler,
  readAhead,
  resizeSampler,
  resizeVolume,
  toBatchTensor,
  uniformSampler,
  weightedSampler,
} from "../src/data/sampler/mod.ts";
import { epochVisits, windowBatchSource } from "../src/data/mod.ts";
import { BlendAggregator, GridAggregator, resizeAggregate } from "../src/data/aggregator/mod.ts";
import type { ChannelVolume, Spatial3, Window } from "../src/data/types.ts";
import { RandomStream } from "../src/dsl/random.ts";
import { assertClose, assertNoTensorLeak, assertRejects, assertThrows } from "./_util.ts";
import { assertSameArray, randomVolume, writeRandomNifti } from "./_data_helpers.ts";

Deno.test("grid sampling then grid aggregation rebuilds random 2D and 3D volumes, all but the border rim", () => {
  // NiftyNet's rule: windows stay inside the volume, so the outer `border` voxels are never written (fill_constant);
  // volume_padding_size >= border puts that rim in the padding.
  const rng = new RandomStream(11);
  const r = (lo: number, hi: number) => lo + Math.floor(rng.uniform() * (hi - lo + 1));
  for (let trial = 0; trial < 40; trial++) {
    const is2d = trial % 3 === 0;
    const shape: Spatial3 = [r(1, 23), r(1, 19), is2d ? 1 : r(1, 13)];
    const window = [r(1, Math.min(12, shape[0])), r(1, Math.min(12, shape[1])), is2d ? 1 : r(1, Math.min(9, shape[2]))];
    const border = window.map((w) => r(0, Math.floor((w - 1) / 2)));
    const channels = r(1, 3);
    const volume = randomVolume(shape, channels, trial);
    const agg = new GridAggregator({ shape, channels, border, fillConstant: -1 });
    for (
      const w of gridSampler({ id: "s", volumes: { image: volume } }, { spatialWindowSize: { image: window }, border })
    ) {
      agg.add(w.data.image, w.location.image.start);
    }
    const b = border.map((v, d) => (window[d] === 1 ? 0 : v));
    const expected = volume.data.slice();
    const n = shape[0] * shape[1] * shape[2];
    for (let i = 0; i < n; i++) {
      const p = [i % shape[0], Math.floor(i / shape[0]) % shape[1], Math.floor(i / (shape[0] * shape[1]))];
      if (p.some((v, d) => v < b[d] || v >= shape[d] - b[d])) {
        for (let c = 0; c < channels; c++) expected[c * n + i] = -1;
      }
    }
    assertSameArray(agg.result().data, expected, `trial ${trial} ${shape}/${window}/${border}`);
  }
});

Deno.test("grid starts step by window - 2*border inside the volume, the last flush with its end (NiftyNet 0.6)", () => {
  assertEquals(gridStarts1d(10, 4, 2), [0, 2, 4, 6]);
  assertEquals(gridStarts1d(10, 4, 4), [0, 4, 6]);
  assertEquals(gridStarts1d(6, 4, 4), [0, 2, 1]);
  assertEquals(gridStarts1d(3, 8, 4), [0]);
  assertThrows(() => [...gridSampler({ id: "s", volumes: { image: randomVolume([4, 4, 4], 1, 1) } }, {
    spatialWindowSize: { image: [4, 4, 4] },
    border: [2],
  })], "leaves nothing of window");
});

Deno.test("gaussian blending keeps a constant prediction constant; constant blending rebuilds the volume", () => {
  const shape: Spatial3 = [21, 17, 11];
  const volume = randomVolume(shape, 2, 5);
  const gauss = new BlendAggregator({ shape, channels: 2, mode: "gaussian" });
  const avg = new BlendAggregator({ shape, channels: 2, mode: "constant" });
  let count = 0;
  for (
    const w of gridSampler({ id: "s", volumes: { image: volume } }, {
      spatialWindowSize: { image: [8, 8, 6] },
      overlap: 0.5,
    })
  ) {
    const constant = {
      data: new Float32Array(w.data.image.data.length).fill(3.25),
      shape: w.data.image.shape,
      channels: 2,
    };
    gauss.add(constant, w.location.image.start);
    avg.add(w.data.image, w.location.image.start);
    count++;
  }
  assert(count > 12, `only ${count} windows`);
  assertClose(gauss.result().data, new Float32Array(volume.data.length).fill(3.25), { rtol: 1e-6, atol: 0 });
  assertClose(avg.result().data, volume.data, { rtol: 1e-6, atol: 0 });
});

/** Share of centres falling in each region of a label map, over `n` seeded windows. */
function centreShares(
  sampler: typeof weightedSampler,
  map: ChannelVolume,
  regionOf: (x: number) => number,
  regions: number,
  n: number,
): number[] {
  const image = randomVolume(map.shape, 1, 3);
  const counts = new Array(regions).fill(0);
  for (
    const w of sampler({ id: "s", volumes: { image, sampler: map } }, {
      spatialWindowSize: { image: [3, 1, 1] },
      samplePerVolume: n,
      seed: 1234,
    })
  ) {
    counts[regionOf(w.location.image.start[0] + 1)]++;
  }
  return counts.map((c) => c / n);
}

Deno.test("weighted sampler centres windows in proportion to the sampler map within 2% over 10,000 draws", () => {
  // x in 1..10 weight 1, 11..20 weight 2, 21..30 weight 5 (x = 0 and 31 cannot be centres of a 3-wide window).
  const map = { data: new Float32Array(32), shape: [32, 1, 1] as Spatial3, channels: 1 };
  for (let x = 0; x < 32; x++) map.data[x] = x <= 10 ? 1 : x <= 20 ? 2 : 5;
  const shares = centreShares(weightedSampler, map, (x) => (x <= 10 ? 0 : x <= 20 ? 1 : 2), 3, 10000);
  const expected = [10 / 80, 20 / 80, 50 / 80];
  shares.forEach((s, i) => assert(Math.abs(s - expected[i]) < 0.02, `region ${i}: ${s} vs ${expected[i]}`));
});

Deno.test("balanced sampler centres each label class equally often within 2% over 10,000 draws", () => {
  // Class sizes 2, 5 and 23 voxels among valid centres.
  const map = { data: new Float32Array(32), shape: [32, 1, 1] as Spatial3, channels: 1 };
  for (let x = 0; x < 32; x++) map.data[x] = x >= 1 && x <= 2 ? 7 : x >= 3 && x <= 7 ? 3 : 0;
  const shares = centreShares(
    balancedSampler,
    map,
    (x) => (map.data[x] === 7 ? 0 : map.data[x] === 3 ? 1 : 2),
    3,
    10000,
  );
  shares.forEach((s, i) => assert(Math.abs(s - 1 / 3) < 0.02, `class ${i}: ${s}`));
});

Deno.test("weighted sampler as NiftyNet 0.6: negative maps shifted, all-zero map uniform, stratified draws", () => {
  // Map −1 everywhere but 3 at x = 5: shifted by +1, only x = 5 has weight (4).
  const map = { data: new Float32Array(12).fill(-1), shape: [12, 1, 1] as Spatial3, channels: 1 };
  map.data[5] = 3;
  const centres = (m: ChannelVolume, window: number, n: number, seed = 3) =>
    [...weightedSampler({ id: "s", volumes: { image: m, sampler: m } }, {
      spatialWindowSize: { image: [window, 1, 1] },
      samplePerVolume: n,
      seed,
    })].map((w) => w.location.image.start[0] + Math.floor(window / 2));
  assertEquals(new Set(centres(map, 3, 20)), new Set([5]));
  // All zero: uniform over the centres NiftyNet's crop_sampling_map keeps; an even window (4) never starts at n − 4.
  const zero = { ...map, data: new Float32Array(12) };
  const even = new Set(centres(zero, 4, 400));
  assertEquals([...even].sort((a, b) => a - b), [2, 3, 4, 5, 6, 7, 8, 9]);
  const odd = new Set(centres(zero, 3, 400));
  assertEquals([...odd].sort((a, b) => a - b), [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  // Stratified: 4 draws on weights 1..4 (x = 1..4 with a 3-window, total 10) take one from each quarter of the
  // sorted cumulative sum (1, 3, 6, 10), from the top down: the first is always x = 4, the last x = 1 or 2.
  const ramp = { ...map, data: Float32Array.from([0, 1, 2, 3, 4, 0]), shape: [6, 1, 1] as Spatial3 };
  for (const seed of [1, 2, 3, 4, 5]) {
    const c = centres(ramp, 3, 4, seed);
    assert(c[0] === 4 && (c[3] === 1 || c[3] === 2), `seed ${seed}: ${c}`);
  }
});

Deno.test("windows of roles with different sizes share NiftyNet's centre: start + floor(big / 2) − floor(size / 2)", () => {
  const image = randomVolume([8, 8, 8], 1, 1), label = randomVolume([8, 8, 8], 1, 2);
  for (
    const w of uniformSampler({ id: "s", volumes: { image, label } }, {
      spatialWindowSize: { image: [4, 4, 4], label: [3, 3, 3] },
      samplePerVolume: 5,
      seed: 4,
    })
  ) {
    assertEquals(w.location.label.start, w.location.image.start.map((v) => v + 1));
  }
});

Deno.test("uniform sampler keeps windows inside the volume, is seeded, and aligns smaller label windows", () => {
  const image = randomVolume([9, 8, 7], 2, 1), label = randomVolume([9, 8, 7], 1, 2);
  const opts = { spatialWindowSize: { image: [5, 5, 5], label: [3, 3, 3] }, samplePerVolume: 50, seed: 8 };
  const a = [...uniformSampler({ id: "s", volumes: { image, label } }, opts)];
  const b = [...uniformSampler({ id: "s", volumes: { image, label } }, opts)];
  assertEquals(a.map((w) => w.location), b.map((w) => w.location));
  for (const w of a) {
    const s = w.location.image.start;
    assert(s.every((v, d) => v >= 0 && v + 5 <= [9, 8, 7][d]));
    assertEquals(w.location.label.start, s.map((v) => v + 1));
    assertEquals(w.data.label.shape, [3, 3, 3]);
    const [x, y, z] = w.location.label.start;
    assertEquals(w.data.label.data[0], label.data[x + 9 * (y + 8 * z)]);
  }
  assertThrows(
    () => [...uniformSampler({ id: "big", volumes: { image } }, { spatialWindowSize: { image: [10, 2, 2] } })],
    `subject "big": window 10x2x2 is larger than the volume 9x8x7`,
  );
});

Deno.test("resize sampler and resize aggregator follow scipy.ndimage.zoom's corner-aligned grid", () => {
  const v = { data: new Float32Array(6 * 4 * 3), shape: [6, 4, 3] as Spatial3, channels: 1 };
  let i = 0;
  for (let z = 0; z < 3; z++) for (let y = 0; y < 4; y++) for (let x = 0; x < 6; x++) v.data[i++] = 2 * x + 3 * y - z;
  const [w] = [...resizeSampler({ id: "s", volumes: { image: v } }, { spatialWindowSize: { image: [11, 7, 5] } })];
  const out = w.data.image;
  // A linear ramp stays a linear ramp: voxel (o) reads input o*(n-1)/(m-1).
  assertClose(out.data.subarray(0, 11), Array.from({ length: 11 }, (_, o) => 2 * o * 5 / 10), { atol: 1e-5 });
  const back = resizeAggregate(out, [6, 4, 3], { order: 1 });
  assertClose(back.data, v.data, { atol: 1e-5 });
  assertEquals(resizeVolume(v, [6, 4, 3], 0).data, v.data);
});

Deno.test("a one-pass window source pads its short final batch with flagged blank windows (pad) or emits it short", async () => {
  const dir = await Deno.makeTempDir();
  await writeRandomNifti(`${dir}/s.nii.gz`, [6, 6, 4], 1);
  const spec = {
    subjects: [{ id: "s", files: { img: `${dir}/s.nii.gz` } }],
    loader: { sections: { img: {} }, roles: { image: ["img"] } },
    sampler: { kind: "grid" as const, options: { spatialWindowSize: { image: [4, 4, 4] } } },
  };
  const collect = async (mode: "pad" | "drop" | "dynamic") => {
    const source = windowBatchSource(spec, {
      batchSize: 4,
      seed: 1,
      endless: false,
      queueLength: 2,
      smallerFinalBatch: mode,
      toTensors: () => ({}),
    });
    const out: Window[][] = [];
    for (let b = await source.next(); b; b = await source.next()) out.push([...b.windows!]);
    await source.close?.();
    return out;
  };
  const n =
    [...gridSampler({ id: "s", volumes: { image: randomVolume([6, 6, 4], 1, 1) } }, spec.sampler.options)].length;
  assert(n % 4 !== 0, `${n} grid windows leave a short final batch`);
  const full = Array(Math.floor(n / 4)).fill(4);
  const pad = await collect("pad");
  assertEquals(pad.map((b) => b.length), [...full, 4]);
  const last = pad.at(-1)!.at(-1)!;
  assert(last.padding && last.data.image.data.every((v) => v === 0));
  assertEquals((await collect("dynamic")).map((b) => b.length), [...full, n % 4]);
  assertEquals((await collect("drop")).map((b) => b.length), [...full, n % 4], "inference never drops windows");
});

Deno.test("batch tensors are channels-last [b, x, y, z, c] ([b, x, y, c] in 2D) and split back exactly, no leak", async () => {
  const a = randomVolume([3, 4, 2], 2, 1), b = randomVolume([3, 4, 2], 2, 2);
  const windows: Window[] = [a, b].map((v) => ({ subject: "s", location: {}, data: { image: v } }));
  await assertNoTensorLeak("batch tensor", () => {
    const t = toBatchTensor(windows, "image");
    assertEquals(t.shape, [2, 3, 4, 2, 2]);
    const d = t.dataSync();
    // Element [1, x=2, y=1, z=1, c=1].
    assertEquals(d[((((1 * 3 + 2) * 4 + 1) * 2 + 1) * 2) + 1], b.data[2 + 3 * (1 + 4 * 1) + 24]);
    const vols = fromBatchData(d, t.shape);
    assertSameArray(vols[0].data, a.data, "window 0");
    assertSameArray(vols[1].data, b.data, "window 1");
    t.dispose();
    const flat = randomVolume([3, 4, 1], 1, 3);
    const t2 = toBatchTensor([{ subject: "s", location: {}, data: { image: flat } }], "image");
    assertEquals(t2.shape, [1, 3, 4, 1]);
    assertSameArray(fromBatchData(t2.dataSync(), t2.shape)[0].data, flat.data, "2D window");
    t2.dispose();
  });
  assert(tf.memory().numTensors >= 0);
});

Deno.test("readAhead keeps queue_length items requested ahead of the consumer, no more, keeps order, raises errors in place", async () => {
  let produced = 0;
  async function* items() {
    for (let i = 0; i < 20; i++) {
      await Promise.resolve();
      produced++;
      yield i;
    }
  }
  const ahead = readAhead(items(), 4);
  const iterator = ahead[Symbol.asyncIterator]();
  assertEquals((await iterator.next()).value, 0);
  // Promise jobs all run before a timer fires, however loaded the machine: the requests in flight are done.
  await new Promise((r) => setTimeout(r, 10));
  assertEquals(produced, 5); // the consumer took 1 item; 4 more were produced meanwhile, no further
  const rest: number[] = [];
  for (let r = await iterator.next(); !r.done; r = await iterator.next()) rest.push(r.value);
  assertEquals(rest, [...Array(19).keys()].map((i) => i + 1));
  await ahead.settle();
  async function* failing() {
    yield 1;
    throw new Error('cannot read "x.nii": truncated');
  }
  const bad = readAhead(failing(), 2)[Symbol.asyncIterator]();
  assertEquals((await bad.next()).value, 1);
  await assertRejects(() => bad.next(), "truncated");
  assertThrows(() => readAhead(items(), 0), "invalid queue_length 0");
});

Deno.test("an epoch visits every subject once: in order for inference, shuffled by the epoch's seed for training", () => {
  assertEquals(epochVisits(3, 5, { shuffle: false }).map((v) => v.subject), [0, 1, 2]);
  const orders = [5, 6, 7, 8].map((seed) => epochVisits(5, seed, { shuffle: true }).map((v) => v.subject));
  for (const order of orders) assertEquals([...order].sort(), [0, 1, 2, 3, 4]);
  assert(new Set(orders.map((o) => o.join())).size > 1, "seeds give different orders");
  assertEquals(epochVisits(5, 6, { shuffle: true }), epochVisits(5, 6, { shuffle: true }));
  assertEquals(epochVisits(3, 9, { shuffle: true }).map((v) => v.position), [0, 1, 2]);
});

Deno.test("random vector sampler is seeded normal; linear interpolation runs from a to b inclusive", () => {
  const v = [...randomVectorSampler({ vectorSize: 2000, repetition: 2, seed: 3 })];
  assertEquals(v.length, 2);
  const mean = v[0].reduce((a, b) => a + b, 0) / 2000;
  assert(Math.abs(mean) < 0.1);
  assertEquals([...randomVectorSampler({ vectorSize: 3, repetition: 1, seed: 3 })][0], v[0].subarray(0, 3).slice());
  const steps = [...linearInterpolationSampler([0, 10], [4, 2], { steps: 5 })];
  assertEquals(Array.from(steps[2]), [2, 6]);
  assertEquals(Array.from(steps[4]), [4, 2]);
});
