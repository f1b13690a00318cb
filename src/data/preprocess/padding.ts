/**
 * Volume padding (NiftyNet's `volume_padding_size`, `volume_padding_mode`, `volume_padding_to_size`) with
 * `numpy.pad` semantics (axes padded in order x, y, z, each seeing the earlier axes' padding), and its inverse.
 *
 * @module
 */
import type { ChannelVolume, Spatial3 } from "../types.ts";
import { spatialSize } from "../types.ts";

/** `numpy.pad` modes (NiftyNet's default is `minimum`). */
export type PaddingMode =
  | "constant"
  | "edge"
  | "reflect"
  | "symmetric"
  | "wrap"
  | "minimum"
  | "maximum"
  | "mean"
  | "median";

const MODES: readonly PaddingMode[] = [
  "constant",
  "edge",
  "reflect",
  "symmetric",
  "wrap",
  "minimum",
  "maximum",
  "mean",
  "median",
];

/** Voxels added before and after each spatial axis; keep it to undo the padding. */
export interface Padding {
  readonly before: Spatial3;
  readonly after: Spatial3;
}

/** Options for {@link paddingFor} and {@link padVolume}. */
export interface PaddingOptions {
  /** INI `volume_padding_size`: voxels on both sides of each axis; one number applies to x, y and (if z > 1) z. */
  volumePaddingSize?: readonly number[];
  /** INI `volume_padding_mode` (default `minimum`). */
  volumePaddingMode?: PaddingMode;
  /** INI `volume_padding_to_size`: pad symmetrically up to at least this size (0 or absent: unused). */
  volumePaddingToSize?: readonly number[];
  /** Value for `constant` mode (default 0). */
  constantValue?: number;
}

/** The padding a volume of `shape` gets under the options. */
export function paddingFor(shape: Spatial3, options: PaddingOptions): Padding {
  const to = options.volumePaddingToSize ?? [];
  if (to.some((n) => n > 0)) {
    const target = [0, 1, 2].map((d) => to.length === 1 ? (shape[d] > 1 || d < 2 ? to[0] : 1) : to[d] ?? 0);
    const all = [0, 1, 2].map((d) => Math.max(0, target[d] - shape[d]));
    const before = all.map((a) => Math.floor(a / 2));
    return { before: before as unknown as Spatial3, after: all.map((a, d) => a - before[d]) as unknown as Spatial3 };
  }
  const p = options.volumePaddingSize ?? [0];
  if (!p.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new Error(`invalid volume_padding_size ${JSON.stringify(p)}: expected non-negative integers`);
  }
  const size = p.length === 1 ? [p[0], p[0], shape[2] > 1 ? p[0] : 0] : [p[0] ?? 0, p[1] ?? 0, p[2] ?? 0];
  return { before: size as unknown as Spatial3, after: size as unknown as Spatial3 };
}

/** Maps an index outside `[0, n)` into it for the index-based modes. */
function sourceIndex(i: number, n: number, mode: PaddingMode): number {
  if (i >= 0 && i < n) return i;
  if (mode === "edge" || n === 1) return i < 0 ? 0 : n - 1;
  if (mode === "wrap") return ((i % n) + n) % n;
  if (mode === "reflect") {
    const p = 2 * (n - 1);
    const m = ((i % p) + p) % p;
    return m < n ? m : p - m;
  }
  // symmetric
  const p = 2 * n;
  const m = ((i % p) + p) % p;
  return m < n ? m : p - 1 - m;
}

function lineStat(line: Float64Array, mode: PaddingMode): number {
  if (mode === "minimum") return line.reduce((a, b) => Math.min(a, b), Infinity);
  if (mode === "maximum") return line.reduce((a, b) => Math.max(a, b), -Infinity);
  if (mode === "mean") return line.reduce((a, b) => a + b, 0) / line.length;
  const s = Float64Array.from(line).sort();
  const h = s.length >> 1;
  return s.length % 2 ? s[h] : (s[h - 1] + s[h]) / 2;
}

/** Pads one spatial axis of a single-channel block. */
function padAxis(
  data: Float32Array,
  shape: number[],
  axis: number,
  before: number,
  after: number,
  mode: PaddingMode,
  cval: number,
): { data: Float32Array; shape: number[] } {
  if (before === 0 && after === 0) return { data, shape };
  const n = shape[axis], m = n + before + after;
  const outShape = [...shape];
  outShape[axis] = m;
  const out = new Float32Array(outShape[0] * outShape[1] * outShape[2]);
  const inStride = [1, shape[0], shape[0] * shape[1]][axis];
  const outStride = [1, outShape[0], outShape[0] * outShape[1]][axis];
  const others = [0, 1, 2].filter((d) => d !== axis);
  const line = new Float64Array(n);
  const stat = mode === "minimum" || mode === "maximum" || mode === "mean" || mode === "median";
  for (let b = 0; b < shape[others[1]]; b++) {
    for (let a = 0; a < shape[others[0]]; a++) {
      const idx = [0, 0, 0];
      idx[others[0]] = a;
      idx[others[1]] = b;
      const inBase = idx[0] + shape[0] * (idx[1] + shape[1] * idx[2]);
      const outBase = idx[0] + outShape[0] * (idx[1] + outShape[1] * idx[2]);
      for (let i = 0; i < n; i++) line[i] = data[inBase + i * inStride];
      const fill = mode === "constant" ? cval : stat ? lineStat(line, mode) : 0;
      for (let o = 0; o < m; o++) {
        const i = o - before;
        out[outBase + o * outStride] = i >= 0 && i < n
          ? line[i]
          : mode === "constant" || stat
          ? fill
          : line[sourceIndex(i, n, mode)];
      }
    }
  }
  return { data: out, shape: outShape };
}

/** Pads every channel of a volume; returns the padded volume and the {@link Padding} to undo it. */
export function padVolume(volume: ChannelVolume, options: PaddingOptions): { volume: ChannelVolume; padding: Padding } {
  const mode = options.volumePaddingMode ?? "minimum";
  if (!MODES.includes(mode)) {
    throw new Error(`invalid volume_padding_mode "${mode}": expected one of ${MODES.join(", ")}`);
  }
  const padding = paddingFor(volume.shape, options);
  return { volume: applyPadding(volume, padding, mode, options.constantValue ?? 0), padding };
}

/** Pads a volume by a given {@link Padding} (e.g. the label with the image's padding). */
export function applyPadding(
  volume: ChannelVolume,
  padding: Padding,
  mode: PaddingMode = "minimum",
  cval = 0,
): ChannelVolume {
  if (padding.before.every((v) => v === 0) && padding.after.every((v) => v === 0)) return volume;
  const n = spatialSize(volume.shape);
  const parts: Float32Array[] = [];
  let shape = [...volume.shape];
  for (let c = 0; c < volume.channels; c++) {
    let cur = { data: volume.data.subarray(c * n, (c + 1) * n), shape: [...volume.shape] };
    for (let d = 0; d < 3; d++) cur = padAxis(cur.data, cur.shape, d, padding.before[d], padding.after[d], mode, cval);
    parts.push(cur.data);
    shape = cur.shape;
  }
  const out = new Float32Array(parts[0].length * volume.channels);
  parts.forEach((p, c) => out.set(p, c * p.length));
  return { data: out, shape: shape as unknown as Spatial3, channels: volume.channels };
}

/** Removes a {@link Padding}: the inverse of {@link padVolume} (works on any channel count). */
export function unpadVolume(volume: ChannelVolume, padding: Padding): ChannelVolume {
  const s = volume.shape;
  const shape = [0, 1, 2].map((d) => s[d] - padding.before[d] - padding.after[d]) as unknown as Spatial3;
  if (shape.some((v) => v < 1)) throw new Error(`cannot remove padding ${JSON.stringify(padding)} from ${s.join("x")}`);
  const out = new Float32Array(spatialSize(shape) * volume.channels);
  const nIn = spatialSize(s), nOut = spatialSize(shape);
  for (let c = 0; c < volume.channels; c++) {
    for (let z = 0; z < shape[2]; z++) {
      for (let y = 0; y < shape[1]; y++) {
        const src = c * nIn + padding.before[0] + s[0] * (y + padding.before[1] + s[1] * (z + padding.before[2]));
        out.set(volume.data.subarray(src, src + shape[0]), c * nOut + shape[0] * (y + shape[1] * z));
      }
    }
  }
  return { data: out, shape, channels: volume.channels };
}
