/**
 * Padding windows for a short final batch (`smaller_final_batch_mode`) and converting windows to and from the
 * channels-last tensors networks take: `[batch, x, y, z, channels]`, or `[batch, x, y, channels]` for 2D windows.
 *
 * @module
 */
import { tf } from "../../deps.ts";
import type { ChannelVolume, Spatial3, Window } from "../types.ts";
import { spatialSize } from "../types.ts";

/** NiftyNet's `smaller_final_batch_mode`: pad the last batch with blank windows, drop it, or emit it smaller. */
export type SmallerFinalBatchMode = "pad" | "drop" | "dynamic";

/** A blank copy of a window (zeros, same shapes), flagged as padding so aggregators skip it. */
export function paddingWindow(like: Window): Window {
  const data: Record<string, ChannelVolume> = {};
  for (const [role, v] of Object.entries(like.data)) {
    data[role] = { data: new Float32Array(v.data.length), shape: v.shape, channels: v.channels };
  }
  return { subject: like.subject, location: like.location, data, padding: true };
}

/** Options for {@link toBatchTensor}. */
export interface BatchTensorOptions {
  /** Drop the z axis of 2D windows (z = 1): `[b, x, y, c]` (default true, as NiftyNet). */
  squeeze2d?: boolean;
}

/** Interleaves volumes of one shape into a channels-last batch `[b, x, y, z, c]` (row-major, c fastest). */
export function interleaveBatch(volumes: readonly ChannelVolume[]): { data: Float32Array; shape: number[] } {
  const { shape: s, channels: C } = volumes[0];
  const n = spatialSize(s);
  const out = new Float32Array(volumes.length * n * C);
  volumes.forEach((v, b) => {
    if (v.shape.some((d, i) => d !== s[i]) || v.channels !== C) {
      throw new Error(`cannot batch a ${v.shape.join("x")}x${v.channels} window with ${s.join("x")}x${C}`);
    }
    const base = b * n * C;
    for (let c = 0; c < C; c++) {
      const src = v.data.subarray(c * n, (c + 1) * n);
      let i = 0;
      for (let z = 0; z < s[2]; z++) {
        for (let y = 0; y < s[1]; y++) {
          for (let x = 0; x < s[0]; x++, i++) out[base + ((x * s[1] + y) * s[2] + z) * C + c] = src[i];
        }
      }
    }
  });
  return { data: out, shape: [volumes.length, s[0], s[1], s[2], C] };
}

/** One role of a batch as a tfjs tensor, `[b, x, y, z, c]` (or `[b, x, y, c]` for 2D). */
export function toBatchTensor(batch: readonly Window[], role: string, options: BatchTensorOptions = {}): tf.Tensor {
  const vols = batch.map((w) => {
    const v = w.data[role];
    if (!v) throw new Error(`window of subject "${w.subject}" has no "${role}" volume`);
    return v;
  });
  const { data, shape } = interleaveBatch(vols);
  if ((options.squeeze2d ?? true) && shape[3] === 1) shape.splice(3, 1);
  return tf.tensor(data, shape, "float32");
}

/** Splits a channels-last batch (`[b, x, y, z, c]` or `[b, x, y, c]`) back into volumes. */
export function fromBatchData(data: ArrayLike<number>, shape: readonly number[]): ChannelVolume[] {
  const full = shape.length === 4 ? [shape[0], shape[1], shape[2], 1, shape[3]] : [...shape];
  if (full.length !== 5) throw new Error(`expected a batch of rank 4 or 5, got shape [${shape.join(", ")}]`);
  const [B, X, Y, Z, C] = full;
  const s: Spatial3 = [X, Y, Z];
  const n = X * Y * Z;
  const out: ChannelVolume[] = [];
  for (let b = 0; b < B; b++) {
    const v = new Float32Array(n * C);
    const base = b * n * C;
    for (let c = 0; c < C; c++) {
      let i = c * n;
      for (let z = 0; z < Z; z++) {
        for (let y = 0; y < Y; y++) {
          for (let x = 0; x < X; x++, i++) v[i] = data[base + ((x * Y + y) * Z + z) * C + c];
        }
      }
    }
    out.push({ data: v, shape: s, channels: C });
  }
  return out;
}
