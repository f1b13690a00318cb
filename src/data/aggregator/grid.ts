/**
 * Aggregating window outputs back into volumes: NiftyNet 0.6's grid aggregator
 * (`niftynet/engine/windows_aggregator_grid.py` with `crop_batch` of `windows_aggregator_base.py`: each input
 * window's location loses `border` voxels on each side, the output's centre of that size is written there, later
 * windows overwrite earlier ones) and overlap blending of the same regions with uniform (`constant`) or Gaussian
 * weights (σ = region/8, MONAI's `sliding_window_inference` `mode` and `sigma_scale = 0.125`).
 *
 * @module
 */
import type { ChannelVolume, Spatial3, Window } from "../types.ts";
import { spatialSize } from "../types.ts";
import { pasteWindow } from "../sampler/crop.ts";
import { gridBorder } from "../sampler/grid.ts";

/** Options for {@link GridAggregator}. */
export interface GridAggregatorOptions {
  /** Spatial shape of the volume being rebuilt. */
  shape: Spatial3;
  /** Output channels. */
  channels?: number;
  /** INI `border`: voxels cropped from each side of each window (default 0). */
  border?: readonly number[];
  /** INI `fill_constant`: value of voxels no window wrote (default 0). */
  fillConstant?: number;
}

/**
 * NiftyNet's grid aggregator: for an input window at `start` of `size`, the region `[start + border,
 * start + size − border)` receives the centre of that extent of the output (offset
 * `floor((output − (size − 2·border)) / 2)`, NiftyNet's `crop_batch`); later windows overwrite earlier ones.
 * An output smaller than `size − 2·border` is an error, as in NiftyNet.
 */
export class GridAggregator {
  readonly #out: ChannelVolume;
  readonly #border: readonly number[];

  constructor(options: GridAggregatorOptions) {
    const channels = options.channels ?? 1;
    this.#out = { data: new Float32Array(spatialSize(options.shape) * channels), shape: options.shape, channels };
    if (options.fillConstant) this.#out.data.fill(options.fillConstant);
    this.#border = options.border ?? [0];
  }

  /** Adds one output of the input window at `start` of `size` (default: the output's own shape). */
  add(output: ChannelVolume, start: Spatial3, size: Spatial3 = output.shape): void {
    const { at, from, extent } = windowRegion(output.shape, start, size, this.#border);
    pasteWindow(this.#out, output, at, { from, extent });
  }

  /** Adds a batch of outputs for the given windows (padding windows are skipped); `role` picks the location. */
  addBatch(outputs: readonly ChannelVolume[], windows: readonly Window[], role = "image"): void {
    windows.forEach((w, i) => {
      if (w.padding) return;
      const loc = w.location[role] ?? Object.values(w.location)[0];
      this.add(outputs[i], loc.start, loc.size);
    });
  }

  /** The rebuilt volume. */
  result(): ChannelVolume {
    return this.#out;
  }
}

/**
 * The part of a window's output that lands in the volume, by NiftyNet's rule: the input window at `start` of `size`
 * loses `border` voxels per side; the output's centre of that `extent` (from offset `from`) is placed with its
 * origin at `at`. An output smaller than the extent is an error naming the border that would fit.
 */
export function windowRegion(
  output: Spatial3,
  start: Spatial3,
  size: Spatial3,
  border: readonly number[],
): { at: Spatial3; from: Spatial3; extent: Spatial3 } {
  const b = gridBorder(size, border);
  const extent = [0, 1, 2].map((d) => size[d] - 2 * b[d]) as unknown as Spatial3;
  if (extent.some((e, d) => output[d] < e)) {
    const need = [0, 1, 2].map((d) => Math.max(b[d], Math.ceil((size[d] - output[d]) / 2)));
    throw new Error(
      `network output window ${output.join("x")} is smaller than the inference window ${size.join("x")} ` +
        `minus 2*border ${b.join(",")}: set [INFERENCE] border to at least ${need.join(",")}`,
    );
  }
  const from = [0, 1, 2].map((d) => Math.floor((output[d] - extent[d]) / 2)) as unknown as Spatial3;
  const at = [0, 1, 2].map((d) => start[d] + b[d] - from[d]) as unknown as Spatial3;
  return { at, from, extent };
}

/** Window blending modes (`[INFERENCE] window_blending`, MONAI's `mode`). */
export type BlendMode = "constant" | "gaussian";

/**
 * Blending weights of a window region: all ones (`constant`) or a separable Gaussian with σ = size/8 per axis,
 * peaking at 1 in the centre and floored at 1e-6 (so every covered voxel has weight).
 */
export function blendWeights(shape: Spatial3, mode: BlendMode): Float64Array {
  const w = new Float64Array(spatialSize(shape)).fill(1);
  if (mode === "constant") return w;
  const axes = [0, 1, 2].map((d) => {
    const n = shape[d], sigma = n / 8, c = (n - 1) / 2;
    return Float64Array.from({ length: n }, (_, i) => (n === 1 ? 1 : Math.exp(-((i - c) ** 2) / (2 * sigma * sigma))));
  });
  let p = 0;
  for (let z = 0; z < shape[2]; z++) {
    for (let y = 0; y < shape[1]; y++) {
      for (let x = 0; x < shape[0]; x++, p++) w[p] = Math.max(axes[0][x] * axes[1][y] * axes[2][z], 1e-6);
    }
  }
  return w;
}

/** Options for {@link BlendAggregator}. */
export interface BlendAggregatorOptions {
  shape: Spatial3;
  channels?: number;
  /** `constant` (uniform) or `gaussian` (default). */
  mode?: BlendMode;
  /** INI `border`: voxels cropped from each side of each window before blending (default 0), as the grid's. */
  border?: readonly number[];
  /** Value of voxels no window reached (default 0). */
  fillConstant?: number;
}

/**
 * Overlap blending: each window contributes the same region as in {@link GridAggregator} (its input window minus
 * `border`), and every voxel is the weighted mean of all regions covering it.
 */
export class BlendAggregator {
  readonly #shape: Spatial3;
  readonly #channels: number;
  readonly #sum: Float64Array;
  readonly #weight: Float64Array;
  readonly #mode: BlendMode;
  readonly #border: readonly number[];
  readonly #fill: number;
  readonly #weights = new Map<string, Float64Array>();

  constructor(options: BlendAggregatorOptions) {
    this.#shape = options.shape;
    this.#channels = options.channels ?? 1;
    this.#mode = options.mode ?? "gaussian";
    this.#border = options.border ?? [0];
    this.#fill = options.fillConstant ?? 0;
    this.#sum = new Float64Array(spatialSize(options.shape) * this.#channels);
    this.#weight = new Float64Array(spatialSize(options.shape));
  }

  /** Adds one output of the input window at `start` of `size` (default: the output's own shape). */
  add(output: ChannelVolume, start: Spatial3, size: Spatial3 = output.shape): void {
    if (output.channels !== this.#channels) {
      throw new Error(`cannot blend a ${output.channels}-channel window into a ${this.#channels}-channel volume`);
    }
    const { at, from, extent } = windowRegion(output.shape, start, size, this.#border);
    const key = extent.join("x");
    let w = this.#weights.get(key);
    if (!w) this.#weights.set(key, w = blendWeights(extent, this.#mode));
    const [nx, ny, nz] = this.#shape;
    const [wx, wy, wz] = output.shape;
    const [ex, ey, ez] = extent;
    const origin = [0, 1, 2].map((d) => at[d] + from[d]);
    const nv = nx * ny * nz, wv = wx * wy * wz;
    for (let z = Math.max(0, -origin[2]); z < Math.min(ez, nz - origin[2]); z++) {
      for (let y = Math.max(0, -origin[1]); y < Math.min(ey, ny - origin[1]); y++) {
        for (let x = Math.max(0, -origin[0]); x < Math.min(ex, nx - origin[0]); x++) {
          const weight = w[x + ex * (y + ey * z)];
          const src = x + from[0] + wx * (y + from[1] + wy * (z + from[2]));
          const dst = x + origin[0] + nx * (y + origin[1] + ny * (z + origin[2]));
          this.#weight[dst] += weight;
          for (let c = 0; c < this.#channels; c++) this.#sum[c * nv + dst] += weight * output.data[c * wv + src];
        }
      }
    }
  }

  /** Adds a batch of outputs for the given windows (padding windows are skipped); `role` picks the location. */
  addBatch(outputs: readonly ChannelVolume[], windows: readonly Window[], role = "image"): void {
    windows.forEach((w, i) => {
      if (w.padding) return;
      const loc = w.location[role] ?? Object.values(w.location)[0];
      this.add(outputs[i], loc.start, loc.size);
    });
  }

  /** The blended volume. */
  result(): ChannelVolume {
    const n = this.#weight.length;
    const out = new Float32Array(n * this.#channels);
    for (let c = 0; c < this.#channels; c++) {
      for (let i = 0; i < n; i++) {
        out[c * n + i] = this.#weight[i] > 0 ? this.#sum[c * n + i] / this.#weight[i] : this.#fill;
      }
    }
    return { data: out, shape: this.#shape, channels: this.#channels };
  }
}
