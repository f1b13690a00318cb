/**
 * Mean/variance whitening (NiftyNet's mean-variance normaliser): each channel becomes `(x − mean) / max(std,
 * 1e-5)`, with mean and standard deviation taken over the foreground mask when one is given.
 *
 * @module
 */
import type { ChannelVolume } from "../types.ts";
import { spatialSize } from "../types.ts";

/** Per-channel statistics used by {@link whiten}, kept to undo it (e.g. for regression outputs). */
export interface WhiteningStats {
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

/** Whitens every channel; `masks[c]` (1 = foreground) restricts the statistics of channel c. */
export function whiten(volume: ChannelVolume, options: { masks?: readonly Uint8Array[] } = {}): {
  volume: ChannelVolume;
  stats: WhiteningStats;
} {
  const n = spatialSize(volume.shape);
  const out = new Float32Array(volume.data.length);
  const mean: number[] = [], std: number[] = [];
  for (let c = 0; c < volume.channels; c++) {
    const mask = options.masks?.[c];
    let sum = 0, count = 0;
    for (let i = 0; i < n; i++) {
      if (!mask || mask[i]) {
        sum += volume.data[c * n + i];
        count++;
      }
    }
    if (count === 0) throw new Error(`cannot whiten channel ${c}: its foreground mask is empty`);
    const m = sum / count;
    let sq = 0;
    for (let i = 0; i < n; i++) if (!mask || mask[i]) sq += (volume.data[c * n + i] - m) ** 2;
    const s = Math.max(Math.sqrt(sq / count), 1e-5);
    for (let i = 0; i < n; i++) out[c * n + i] = (volume.data[c * n + i] - m) / s;
    mean.push(m);
    std.push(s);
  }
  return { volume: { data: out, shape: volume.shape, channels: volume.channels }, stats: { mean, std } };
}

/** Undoes {@link whiten}: `x · std + mean` per channel. */
export function unwhiten(volume: ChannelVolume, stats: WhiteningStats): ChannelVolume {
  const n = spatialSize(volume.shape);
  const out = new Float32Array(volume.data.length);
  for (let c = 0; c < volume.channels; c++) {
    for (let i = 0; i < n; i++) out[c * n + i] = volume.data[c * n + i] * stats.std[c] + stats.mean[c];
  }
  return { data: out, shape: volume.shape, channels: volume.channels };
}
