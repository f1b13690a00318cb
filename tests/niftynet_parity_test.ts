/**
 * NiftyNet 0.6 parity of the inference grid, the preprocessing order and he_normal, against the numpy
 * re-implementation in tests/reference/niftynet_parity.py (fixture tests/fixtures/niftynet_parity.json).
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import {
  cropWindow,
  GridAggregator,
  gridBorder,
  gridSampler,
  gridStarts,
  gridStarts1d,
  resizeAggregate,
} from "../src/data/mod.ts";
import { preprocessSubject, undoPreprocessing } from "../src/data/preprocess/mod.ts";
import type { ChannelVolume, Spatial3 } from "../src/data/types.ts";
import { initialValues } from "../src/dsl/initializers.ts";
import { RandomStream } from "../src/dsl/random.ts";
import { assertClose, assertThrows, loadFixture } from "./_util.ts";

interface AxisCase {
  n: number;
  window: number;
  border: number;
  starts: number[];
}
interface VolumeCase {
  shape: Spatial3;
  window: Spatial3;
  border: Spatial3;
  extra: Spatial3;
  input: number[];
  starts: Spatial3[];
  output: number[];
}
interface Fixture {
  axis: AxisCase[];
  volumes: VolumeCase[];
  pipeline: {
    shape: Spatial3;
    padding: number;
    window: Spatial3;
    border: Spatial3;
    input: number[];
    padded_whitened: number[];
    whiten_then_pad: number[];
    starts: Spatial3[];
    output: number[];
    mean: number;
    std: number;
  };
  resize: { input: number[]; shape: Spatial3; border: number; target: Spatial3; order: Record<string, number[]> };
  he_normal: { shape: number[]; fan_in: number; std: number; bound: number; kurtosis: number };
}

const fixture = loadFixture<Fixture>("niftynet_parity");

function volumeOf(data: readonly number[], shape: Spatial3): ChannelVolume {
  return { data: Float32Array.from(data), shape, channels: 1 };
}

/** The reference's stand-in network: the window's centre of `outShape` plus the window's index. */
function network(window: ChannelVolume, index: number, outShape: Spatial3): ChannelVolume {
  const o = [0, 1, 2].map((d) => Math.floor((window.shape[d] - outShape[d]) / 2)) as unknown as Spatial3;
  const y = cropWindow(window, o, outShape);
  return { ...y, data: y.data.map((v) => v + index) };
}

/** Grid-samples `volume`, runs {@link network} on every window and aggregates; returns starts and the volume. */
function sampleAndAggregate(volume: ChannelVolume, window: Spatial3, border: Spatial3, extra: Spatial3, fill: number) {
  const agg = new GridAggregator({ shape: volume.shape, border: [...border], fillConstant: fill });
  const outShape = [0, 1, 2].map((d) =>
    window[d] - 2 * (window[d] === 1 ? 0 : border[d]) + extra[d]
  ) as unknown as Spatial3;
  const starts: Spatial3[] = [];
  let i = 0;
  for (
    const w of gridSampler({ id: "s", volumes: { image: volume } }, { spatialWindowSize: { image: window }, border })
  ) {
    starts.push(w.location.image.start);
    agg.addBatch([network(w.data.image, i++, outShape)], [w]);
  }
  return { starts, output: agg.result() };
}

Deno.test("grid starts along one axis equal NiftyNet 0.6's for odd/even lengths and windows, borders 0..k, short axes", () => {
  assert(fixture.axis.length > 200, `only ${fixture.axis.length} cases`);
  for (const c of fixture.axis) {
    assertEquals(gridStarts1d(c.n, c.window, c.window - 2 * c.border), c.starts, JSON.stringify(c));
  }
});

Deno.test("a volume smaller than the grid window is an error naming both sizes (NiftyNet asserts too)", () => {
  const small = fixture.axis.filter((c) => c.n < c.window);
  assert(small.length > 10);
  for (const c of small) assertEquals(c.starts, [0]);
  assertThrows(
    () => gridStarts([5, 9, 9], { spatialWindowSize: { image: [8, 8, 8] }, border: [1] }),
    "grid window 8x8x8 is larger than the volume 5x9x9",
  );
});

Deno.test("grid sampling + aggregation equal NiftyNet's: meshgrid order, windows inside, border crop, output centre", () => {
  for (const c of fixture.volumes) {
    const what = `${c.shape}/${c.window}/${c.border}/${c.extra}`;
    const { starts, output } = sampleAndAggregate(volumeOf(c.input, c.shape), c.window, c.border, c.extra, -1);
    assertEquals(starts, c.starts, what);
    assertClose(output.data, c.output, { rtol: 0, atol: 0, what });
  }
});

Deno.test("grid aggregation refuses a network output smaller than window - 2*border and names the border to use", () => {
  const agg = new GridAggregator({ shape: [20, 20, 20], border: [0] });
  const out = { data: new Float32Array(9 ** 3), shape: [9, 9, 9] as Spatial3, channels: 1 };
  assertThrows(() => agg.add(out, [0, 0, 0], [17, 17, 17]), "set [INFERENCE] border to at least 4,4,4");
});

Deno.test("preprocessing pads (numpy minimum) first, then whitens the padded image; inference path equals NiftyNet's", () => {
  const p = fixture.pipeline;
  const raw = volumeOf(p.input, p.shape);
  const { volumes, record } = preprocessSubject({ image: raw }, { whitening: true, volumePaddingSize: [p.padding] });
  assertClose(volumes.image.data, p.padded_whitened, { rtol: 1e-5, atol: 1e-5, what: "padded, whitened" });
  assertClose(record.whitening!.mean, [p.mean], { rtol: 1e-6 });
  assertClose(record.whitening!.std, [p.std], { rtol: 1e-6 });
  const worst = p.whiten_then_pad.reduce((m, v, i) => Math.max(m, Math.abs(v - p.padded_whitened[i])), 0);
  assert(worst > 0.01, `the two orders should differ on this volume (max difference ${worst})`);
  const { starts, output } = sampleAndAggregate(volumes.image, p.window, p.border, [0, 0, 0], 0);
  assertEquals(starts, p.starts);
  assertClose(undoPreprocessing(output, record).data, p.output, { rtol: 1e-5, atol: 1e-5, what: "inference output" });
});

Deno.test("he_normal matches NiftyNet 0.6 (TF 1.13 truncated normal): std, 2σ bound and kurtosis of the reference", () => {
  const h = fixture.he_normal;
  const v = initialValues({ type: "he_normal" }, h.shape, new RandomStream(7));
  let mean = 0, m2 = 0, m4 = 0, maxAbs = 0;
  for (const x of v) mean += x / v.length;
  for (const x of v) {
    m2 += (x - mean) ** 2 / v.length;
    m4 += (x - mean) ** 4 / v.length;
    maxAbs = Math.max(maxAbs, Math.abs(x));
  }
  const std = Math.sqrt(m2), kurtosis = m4 / (m2 * m2) - 3;
  assert(Math.abs(std / h.std - 1) < 0.02, `std ${std} vs ${h.std}`);
  assert(maxAbs <= h.bound * (1 + 1e-6) && maxAbs > 0.95 * h.bound, `max |w| ${maxAbs} vs bound ${h.bound}`);
  assert(Math.abs(kurtosis - h.kurtosis) < 0.1, `excess kurtosis ${kurtosis} vs ${h.kurtosis}`);
});

Deno.test("extensions where NiftyNet fails: no border on a 1-voxel window axis (2D), 2*border >= window is an error", () => {
  assertEquals(gridBorder([6, 5, 1], [2]), [2, 2, 0]);
  assertEquals(gridStarts([10, 10, 1], { spatialWindowSize: { image: [6, 4, 1] }, border: [1] }).length, 3 * 4);
  assertThrows(() => gridBorder([6, 4, 4], [2]), "leaves nothing of window 6x4x4");
});

Deno.test("resize aggregation edge-pads by the border then zooms like scipy.ndimage.zoom (orders 0 and 1)", () => {
  const r = fixture.resize;
  for (const order of [0, 1] as const) {
    const out = resizeAggregate(volumeOf(r.input, r.shape), r.target, { order, border: [r.border] });
    assertEquals(out.shape, r.target);
    assertClose(out.data, r.order[String(order)], { rtol: 1e-5, atol: 1e-5, what: `order ${order}` });
  }
});
