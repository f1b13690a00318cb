/**
 * Whole-volume inference of a chain of "same" 3D convolutions in which some layers are followed by instance
 * normalisation (statistics over the whole volume, brainchop's `_gn` layers), in bounded memory with oneDNN:
 *
 * 1. the layer's convolution runs slab by slab along the first axis (each slab reads its input planes plus the
 *    halo of the dilated kernel, zero padding only at the volume's ends: the whole-volume sums) into a buffer,
 *    while each channel's sum and sum of squares are accumulated in float64 (the first pass);
 * 2. the mean and population variance give per-channel `scale = 1/√(var + ε)` and `shift = −mean·scale`, and a
 *    second pass streams the buffer through a 1×1×1 convolution with the diagonal filter `scale`, bias `shift`
 *    and the activation fused as a oneDNN post-op (exact erf GELU included), into the next layer's input.
 *
 * Layers without normalisation have their bias and activation fused into the convolution; the last layer's
 * output is reduced to its argmax slab by slab. Two activation buffers of the hidden width exist at a time; no
 * tfjs tensor is created.
 *
 * @module
 */
import { type ConvSpec, type EltwiseOp, fusedConvPlanner } from "../kernels/fast/mod.ts";
import { argmaxInto } from "./_pointwise.ts";
import { onednnRunner, type StageRunner } from "./_runners.ts";
import type { ConvStage } from "./_trace.ts";

/** One layer: a stride-1 "same" 3D convolution, then optionally instance normalisation, then an activation. */
export interface NormalizedLayer {
  /** Filter `[k, k, k, in, out]` (tfjs layout), k odd. */
  readonly w: Float32Array;
  readonly wShape: readonly [number, number, number, number, number];
  /** Bias per output channel (none: zeros). */
  readonly bias?: Float32Array;
  readonly dilation: number;
  /** Instance normalisation `(x − mean)/√(var + epsilon)` per channel over the whole volume, no scale or shift. */
  readonly instanceNorm?: { readonly epsilon: number };
  /** Applied after the normalisation (or the bias). */
  readonly activation?: EltwiseOp;
}

/** Options of {@link normalizedChainLabels}. */
export interface NormalizedChainOptions {
  /** Output planes per slab (default: about 64 MiB of slab input and output, at least the halo). */
  readonly planes?: number;
  /** Called after each layer with (done, total). */
  readonly onLayer?: (done: number, total: number) => void;
  /** Also return the last layer's outputs (channels-last), for tests. */
  readonly logits?: boolean;
}

/** Labels (argmax of the last layer) and optionally its outputs. */
export interface NormalizedChainResult {
  /** `[x, y, z]` in C order. */
  readonly labels: Int32Array;
  readonly logits?: Float32Array;
  /** oneDNN's implementation names. */
  readonly implementations: readonly string[];
}

/**
 * Runs `layers` on `volume` (`[x, y, z]` C order, one channel) with oneDNN; null when oneDNN is not active.
 * Exact up to float rounding: the same sums as one whole-volume application.
 */
export function normalizedChainLabels(
  layers: readonly NormalizedLayer[],
  volume: Float32Array,
  shape: readonly [number, number, number],
  options: NormalizedChainOptions = {},
): NormalizedChainResult | null {
  if (fusedConvPlanner() === null) return null;
  const runner = onednnRunner();
  if (runner === null) return null;
  try {
    return run(layers, volume, shape, runner, options);
  } finally {
    runner.dispose();
  }
}

function checkLayers(layers: readonly NormalizedLayer[]): void {
  if (layers.length === 0) throw new Error("normalized chain: no layers");
  let channels = 1;
  layers.forEach((l, i) => {
    const [k, k1, k2, cin, cout] = l.wShape;
    if (k !== k1 || k !== k2 || k % 2 !== 1) throw new Error(`normalized chain: layer ${i} kernel [${l.wShape}]`);
    if (cin !== channels) throw new Error(`normalized chain: layer ${i} takes ${cin} channels, gets ${channels}`);
    if (l.w.length !== k * k * k * cin * cout) throw new Error(`normalized chain: layer ${i} filter size`);
    channels = cout;
  });
}

function run(
  layers: readonly NormalizedLayer[],
  volume: Float32Array,
  shape: readonly [number, number, number],
  runner: StageRunner,
  options: NormalizedChainOptions,
): NormalizedChainResult {
  checkLayers(layers);
  const [nx, ny, nz] = shape;
  const plane = ny * nz;
  const n = nx * plane;
  if (volume.length !== n) throw new Error(`normalized chain: volume has ${volume.length} values, shape [${shape}]`);
  const labels = new Int32Array(n);
  let logits: Float32Array | undefined;
  let input = volume; // the current layer's input, `channels` per voxel
  let spare: Float32Array | undefined; // the other hidden-width buffer
  layers.forEach((layer, i) => {
    const [k, , , cin, cout] = layer.wShape;
    const last = i === layers.length - 1;
    const halo = ((k - 1) / 2) * layer.dilation;
    const perPlane = plane * (cin + cout) * 4;
    const planes = Math.max(1, Math.min(nx, options.planes ?? Math.max(2 * halo, Math.floor(2 ** 26 / perPlane))));
    const norm = last ? undefined : layer.instanceNorm;
    const stage: ConvStage = {
      w: layer.w,
      wShape: layer.wShape,
      bias: layer.bias ?? new Float32Array(cout),
      attrs: {},
      eltwise: norm || !layer.activation ? [] : [{ kind: "eltwise", op: layer.activation }],
      post: [],
    };
    const slab = (a: number, b: number, x: Float32Array, y: Float32Array, s: ConvStage, kk: number, h: number) => {
      const lo = Math.max(0, a - h), hi = Math.min(nx, b + h);
      const before = h - (a - lo);
      const spec: ConvSpec = {
        batch: 1,
        inChannels: s.wShape[3],
        outChannels: s.wShape[4],
        inSize: [hi - lo, ny, nz],
        outSize: [b - a, ny, nz],
        kernel: [kk, kk, kk],
        strides: [1, 1, 1],
        dilations: [layer.dilation, layer.dilation, layer.dilation],
        padsBefore: [before, h, h],
        padsAfter: [b - a - 1 + (kk - 1) * layer.dilation + 1 - (hi - lo) - before, h, h],
      };
      runner.run(s, spec, x.subarray(lo * plane * s.wShape[3], hi * plane * s.wShape[3]), y);
    };

    if (last) {
      const out = new Float32Array(planes * plane * cout);
      if (options.logits) logits = new Float32Array(n * cout);
      for (let a = 0; a < nx; a += planes) {
        const b = Math.min(nx, a + planes);
        const y = out.subarray(0, (b - a) * plane * cout);
        slab(a, b, input, y, stage, k, halo);
        argmaxInto(y, cout, labels, a * plane);
        logits?.set(y, a * plane * cout);
      }
      options.onLayer?.(i + 1, layers.length);
      return;
    }
    let out = spare?.length === n * cout ? spare : new Float32Array(n * cout);
    if (out === input) out = new Float32Array(n * cout);
    const sum = new Float64Array(cout), squares = new Float64Array(cout);
    for (let a = 0; a < nx; a += planes) {
      const b = Math.min(nx, a + planes);
      const y = out.subarray(a * plane * cout, b * plane * cout);
      slab(a, b, input, y, stage, k, halo);
      if (norm) {
        for (let v = 0; v < y.length; v += cout) {
          for (let c = 0; c < cout; c++) {
            const value = y[v + c];
            sum[c] += value;
            squares[c] += value * value;
          }
        }
      }
    }
    if (norm) {
      // Second pass: y ← activation(y·scale + shift) per channel, as a fused 1×1×1 convolution into the other buffer.
      const scale = new Float32Array(cout), shift = new Float32Array(cout);
      for (let c = 0; c < cout; c++) {
        const mean = sum[c] / n;
        const variance = Math.max(0, squares[c] / n - mean * mean);
        scale[c] = 1 / Math.sqrt(variance + norm.epsilon);
        shift[c] = -mean * scale[c];
      }
      const diagonal = new Float32Array(cout * cout);
      for (let c = 0; c < cout; c++) diagonal[c * cout + c] = scale[c];
      const apply: ConvStage = {
        w: diagonal,
        wShape: [1, 1, 1, cout, cout],
        bias: shift,
        attrs: {},
        eltwise: layer.activation ? [{ kind: "eltwise", op: layer.activation }] : [],
        post: [],
      };
      let target = input.length === n * cout && input !== volume ? input : new Float32Array(n * cout);
      if (target === out) target = new Float32Array(n * cout);
      const step = Math.max(1, Math.floor(2 ** 26 / (plane * cout * 8)));
      for (let a = 0; a < nx; a += step) {
        const b = Math.min(nx, a + step);
        slab(a, b, out, target.subarray(a * plane * cout, b * plane * cout), apply, 1, 0);
      }
      spare = out;
      input = target;
    } else {
      spare = input === volume ? undefined : input;
      input = out;
    }
    options.onLayer?.(i + 1, layers.length);
  });
  return { labels, logits, implementations: runner.implementations() };
}
