/**
 * The filter gradient of a dilated convolution as one undilated filter gradient, so oneDNN runs it on its AVX-512
 * kernel (its dilated filter-gradient path is a slow im2col GEMM, and its forward kernels crawl on the 64³ filter
 * the forward-conv formulation of src/kernels/conv_grads.ts uses).
 *
 * For stride 1, dilation s (valid, already padded): dW[k] = Σₒ x[o + k·s] ⊗ dy[o]. Splitting o = q·s + r by its
 * phase r (per axis) gives dW[k] = Σᵣ Σ_q xᵣ[q + k] ⊗ dyᵣ[q] with xᵣ[q] = x[q·s + r], dyᵣ[q] = dy[q·s + r]: an
 * undilated filter gradient whose batch holds the s³ phases. Phases are zero-padded to the largest one; the zeros
 * of dy meet only padding of x, so they add nothing.
 *
 * Each phase of x or dy is a strided view of it: the gathers are lists of {@link StridedBox}es, copied by a
 * {@link BoxCopier} (oneDNN's multi-threaded reorders) where one is given, else by {@link copyBox}.
 *
 * @module
 */
import type { ConvSpec } from "./dnnl_conv.ts";
import { copyBox, type StridedBox } from "./strided_copy.ts";
import { freshOutput } from "./_fresh_output.ts";

/** Copies boxes between arrays; false when it did not (the gathers then copy in TypeScript). */
export type BoxCopier = (src: Float32Array, dst: Float32Array, boxes: readonly StridedBox[]) => boolean;

/** A gather: a zeroed array of `length` values with `boxes` copied into it from the source. */
export interface PhaseGather {
  /** Identifies the geometry: gathers with equal keys write the same boxes and leave the same elements zero. */
  readonly key: string;
  readonly length: number;
  readonly boxes: readonly StridedBox[];
}

/**
 * A reusable destination for gathers. A fresh array of this size (about 100 MB for 64 channels at 64³) costs a page
 * fault per 4 KiB written, several times the copy itself; a reused one is zeroed again only when a gather of another
 * geometry wrote it last (the same geometry leaves the same elements zero).
 */
export class GatherScratch {
  #buffer: Float32Array = new Float32Array(0);
  #lastKey = "";

  /** A zeroed-where-unwritten array of `gather.length` values, valid until the next call. */
  take(gather: PhaseGather): Float32Array {
    if (this.#buffer.length < gather.length) {
      this.#buffer = new Float32Array(0); // let the old one go first
      this.#buffer = freshOutput(gather.length);
    } else if (this.#lastKey !== gather.key) this.#buffer.fill(0, 0, gather.length);
    this.#lastKey = gather.key;
    return this.#buffer.length === gather.length ? this.#buffer : this.#buffer.subarray(0, gather.length);
  }
}

/** The undilated problem and the two gathers that build its inputs. */
export interface PhaseSplit {
  /** Undilated, stride 1, valid; batch = number of phases; source channels-last. */
  readonly spec: ConvSpec;
  readonly source: PhaseGather;
  readonly outputGradient: PhaseGather;
  /** Channels-first source `[c, s…]` (batch 1, or channels-last for {@link directPhaseSplit}) → phases `[phases, xs…, c]`. */
  gatherSource(x: Float32Array, copier?: BoxCopier, scratch?: GatherScratch): Float32Array;
  /** Output gradient `[f…, o]` (batch 1, channels-last) → phases `[phases, fs…, o]`. */
  gatherOutputGradient(dy: Float32Array, copier?: BoxCopier, scratch?: GatherScratch): Float32Array;
}

type Vec3 = [number, number, number];

function to3(v: readonly number[], fill: number): Vec3 {
  return (v.length === 2 ? [fill, v[0], v[1]] : [v[0], v[1], v[2]]) as Vec3;
}

/**
 * Runs a gather into `scratch` (else a new array): the oneDNN copier where given and it takes the boxes, else
 * TypeScript.
 */
export function runGather(
  gather: PhaseGather,
  src: Float32Array,
  copier?: BoxCopier,
  scratch?: GatherScratch,
): Float32Array {
  const out = scratch ? scratch.take(gather) : new Float32Array(gather.length);
  if (copier === undefined || !copier(src, out, gather.boxes)) gather.boxes.forEach((box) => copyBox(src, out, box));
  return out;
}

/** Where the phases of one array lie in it. */
interface PhaseSource {
  /** Spatial size of the array. */
  readonly size: Vec3;
  /** Phase q of axis i reads coordinate q·s + r − pad (outside [0, size): zero)… */
  readonly pad: Vec3;
  /** …and only while q·s + r < limit. */
  readonly limit: Vec3;
  readonly channels: number;
  readonly channelsLast: boolean;
}

/** The boxes of gathering `src` by phase into `[phases, q…, channels]` with `q` of extent `extent` per axis. */
function phaseBoxes(src: PhaseSource, s: Vec3, extent: Vec3): PhaseGather {
  const { size: S, pad, limit, channels: c } = src;
  const plane = S[0] * S[1] * S[2];
  const spatial: Vec3 = src.channelsLast ? [S[1] * S[2] * c, S[2] * c, c] : [S[1] * S[2], S[2], 1];
  const channelStride = src.channelsLast ? 1 : plane;
  const phaseLength = extent[0] * extent[1] * extent[2] * c;
  const dstStrides = [extent[1] * extent[2] * c, extent[2] * c, c, 1];
  const boxes: StridedBox[] = [];
  let phase = 0;
  for (let r0 = 0; r0 < s[0]; r0++) {
    for (let r1 = 0; r1 < s[1]; r1++) {
      for (let r2 = 0; r2 < s[2]; r2++, phase++) {
        const r = [r0, r1, r2];
        const lo = r.map((ri, i) => Math.max(0, Math.ceil((pad[i] - ri) / s[i])));
        const hi = r.map((ri, i) => Math.min(extent[i], Math.ceil((Math.min(limit[i], S[i] + pad[i]) - ri) / s[i])));
        if (lo.some((l, i) => hi[i] <= l)) continue; // the whole phase is padding
        const first = lo.map((l, i) => l * s[i] + r[i] - pad[i]);
        boxes.push({
          dims: [hi[0] - lo[0], hi[1] - lo[1], hi[2] - lo[2], c],
          srcOffset: first[0] * spatial[0] + first[1] * spatial[1] + first[2] * spatial[2],
          srcStrides: [s[0] * spatial[0], s[1] * spatial[1], s[2] * spatial[2], channelStride],
          dstOffset: phase * phaseLength + ((lo[0] * extent[1] + lo[1]) * extent[2] + lo[2]) * c,
          dstStrides,
        });
      }
    }
  }
  const key = JSON.stringify([S, pad, limit, c, src.channelsLast, s, extent]);
  return { key, length: phase * phaseLength, boxes };
}

/**
 * Splits `spec` (batch 1, stride 1, dilation > 1 on some axis, no padding) by phase; null when it is not of that
 * form.
 */
export function phaseSplit(spec: ConvSpec): PhaseSplit | null {
  if (spec.batch !== 1 || spec.strides.some((s) => s !== 1) || spec.dilations.every((d) => d === 1)) return null;
  if ([...spec.padsBefore, ...spec.padsAfter].some((p) => p !== 0)) return null;
  const rank = spec.inSize.length;
  const S = to3(spec.inSize, 1), F = to3(spec.outSize, 1), K = to3(spec.kernel, 1), s = to3(spec.dilations, 1);
  if (S.some((n, i) => n !== F[i] + (K[i] - 1) * s[i])) return null;
  const fm = F.map((n, i) => Math.ceil(n / s[i])) as Vec3, xm = fm.map((n, i) => n + K[i] - 1) as Vec3;
  const c = spec.inChannels, o = spec.outChannels;
  const back = (v: number[]) => (rank === 2 ? v.slice(1) : v);
  const zero: Vec3 = [0, 0, 0];
  const source = phaseBoxes({ size: S, pad: zero, limit: S, channels: c, channelsLast: false }, s, xm);
  const outputGradient = phaseBoxes({ size: F, pad: zero, limit: F, channels: o, channelsLast: true }, s, fm);
  return {
    spec: {
      batch: s[0] * s[1] * s[2],
      inChannels: c,
      outChannels: o,
      inSize: back(xm),
      outSize: back(fm),
      kernel: spec.kernel,
      strides: spec.strides,
      dilations: spec.strides,
      padsBefore: spec.padsBefore,
      padsAfter: spec.padsAfter,
    },
    source,
    outputGradient,
    gatherSource: (x, copier, scratch) => runGather(source, x, copier, scratch),
    gatherOutputGradient: (dy, copier, scratch) => runGather(outputGradient, dy, copier, scratch),
  };
}

/**
 * The filter gradient of the dilated convolution `spec` itself (batch 1, stride 1, any padding) by the same phase
 * split, gathering straight from the unpadded channels-last source `[1, s…, c]` (padding read as zeros): no padded,
 * transposed copy of the source is made. The undilated problem writes the gradient in tfjs's filter layout when run
 * with layouts `{ src: "nxc", weights: "xio" }`. Null when `spec` is not of that form.
 */
export function directPhaseSplit(spec: ConvSpec): PhaseSplit | null {
  if (spec.batch !== 1 || spec.strides.some((s) => s !== 1) || spec.dilations.every((d) => d === 1)) return null;
  const rank = spec.inSize.length;
  const S = to3(spec.inSize, 1), F = to3(spec.outSize, 1), K = to3(spec.kernel, 1), s = to3(spec.dilations, 1);
  const pad = to3(spec.padsBefore, 0);
  // the padded source the sums read: F + (K − 1)·s per axis
  const P = F.map((n, i) => n + (K[i] - 1) * s[i]) as Vec3;
  const back = (v: number[]) => (rank === 2 ? v.slice(1) : v);
  const undilated = phaseSplit({
    ...spec,
    inSize: back(P),
    padsBefore: spec.padsBefore.map(() => 0),
    padsAfter: spec.padsAfter.map(() => 0),
  });
  if (undilated === null) return null;
  const xm = to3(undilated.spec.inSize, 1);
  const source = phaseBoxes({ size: S, pad, limit: P, channels: spec.inChannels, channelsLast: true }, s, xm);
  return { ...undilated, source, gatherSource: (x, copier, scratch) => runGather(source, x, copier, scratch) };
}
