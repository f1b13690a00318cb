/**
 * Random flipping (NiftyNet's `random_flipping_axes`): each listed axis is reversed with probability
 * `flip_probability`, the same draw for every role of a subject.
 *
 * @module
 */
import type { ChannelVolume } from "../types.ts";
import { makeRandom, type RandomStream } from "../_random.ts";

/** Reverses a volume along the given spatial axes (0 = x, 1 = y, 2 = z); every channel alike. */
export function flipVolume(volume: ChannelVolume, axes: readonly number[]): ChannelVolume {
  const [nx, ny, nz] = volume.shape;
  const fx = axes.includes(0), fy = axes.includes(1), fz = axes.includes(2);
  const out = new Float32Array(volume.data.length);
  const n = nx * ny * nz;
  for (let c = 0; c < volume.channels; c++) {
    const base = c * n;
    for (let z = 0; z < nz; z++) {
      const zs = fz ? nz - 1 - z : z;
      for (let y = 0; y < ny; y++) {
        const ys = fy ? ny - 1 - y : y;
        const src = base + nx * (ys + ny * zs), dst = base + nx * (y + ny * z);
        if (fx) { for (let x = 0; x < nx; x++) out[dst + x] = volume.data[src + nx - 1 - x]; }
        else out.set(volume.data.subarray(src, src + nx), dst);
      }
    }
  }
  return { data: out, shape: volume.shape, channels: volume.channels };
}

/** Options for {@link randomFlip}. */
export interface RandomFlipOptions {
  /** INI `random_flipping_axes` (e.g. `[0, 1]`; empty or `[-1]`: no flipping). */
  randomFlippingAxes: readonly number[];
  /** Probability of flipping each axis (NiftyNet: 0.5). */
  flipProbability?: number;
}

/** Draws which axes to flip. */
export function drawFlipAxes(rng: RandomStream, options: RandomFlipOptions): number[] {
  const axes = options.randomFlippingAxes.filter((a) => a >= 0);
  for (const a of axes) {
    if (!(Number.isInteger(a) && a <= 2)) {
      throw new Error(`invalid random_flipping_axes entry ${a}: expected 0, 1 or 2`);
    }
  }
  return axes.filter(() => rng.uniform() < (options.flipProbability ?? 0.5));
}

/** Flips every role of a subject along the same randomly drawn axes. */
export function randomFlip(
  volumes: Readonly<Record<string, ChannelVolume>>,
  options: RandomFlipOptions & { seed?: number | RandomStream },
): Record<string, ChannelVolume> {
  const axes = drawFlipAxes(makeRandom(options.seed), options);
  const out: Record<string, ChannelVolume> = {};
  for (const [role, v] of Object.entries(volumes)) out[role] = axes.length ? flipVolume(v, axes) : v;
  return out;
}
