/**
 * Aggregating window outputs back into volumes: NiftyNet 0.6's grid aggregator
 * (`niftynet/engine/windows_aggregator_grid.py` with `crop_batch` of `windows_aggregator_base.py`: each input
 * window's location loses `border` voxels on each side, the output's centre of that size is written there, later
 * windows overwrite earlier ones) and overlap blending with uniform (`average`) or Gaussian weights (σ = window/8,
 * as nnU-Net and MONAI), optionally averaged over test-time flips.
 *
 * @module
 */
import type { ChannelVolume, Spatial3, Window } from "../types.ts";
import { spatialSize } from "../types.ts";
import { pasteWindow } from "../sampler/crop.ts";
import { gridBorder } from "../sampler/grid.ts";
import { flipVolume } from "../augment/flip.ts";

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
    const b = gridBorder(size, this.#border);
    const extent = [0, 1, 2].map((d) => size[d] - 2 * b[d]) as unknown as Spatial3;
    if (extent.some((e, d) => output.shape[d] < e)) {
      const need = [0, 1, 2].map((d) => Math.max(b[d], Math.ceil((size[d] - output.shape[d]) / 2)));
      throw new Error(
        `network output window ${output.shape.join("x")} is smaller than the inference window ${size.join("x")} ` +
          `minus 2*border ${b.join(",")}: set [INFERENCE] border to at least ${need.join(",")}`,
      );
    }
    const left = [0, 1, 2].map((d) => Math.floor((output.shape[d] - extent[d]) / 2)) as unknown as Spatial3;
    const at = [0, 1, 2].map((d) => start[d] + b[d] - left[d]) as unknown as Spatial3;
    pasteWindow(this.#out, output, at, { from: left, extent });
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

/** Where an output of `shape` sits when it is centred on the window of `role`. */
export function centredStart(w: Window, role: string, shape: Spatial3): Spatial3 {
  const loc = w.location[role] ?? Object.values(w.location)[0];
  return [0, 1, 2].map((d) => loc.start[d] + Math.floor((loc.size[d] - shape[d]) / 2)) as unknown as Spatial3;
}

/** Blending weights of a window: all ones (`average`) or a separable Gaussian with σ = size/8 peaking at 1. */
export function blendWeights(shape: Spatial3, mode: "average" | "gaussian"): Float64Array {
  const w = new Float64Array(spatialSize(shape)).fill(1);
  if (mode === "average") return w;
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
  /** `average` (uniform) or `gaussian` (default). */
  mode?: "average" | "gaussian";
  /** Value of voxels no window reached (default 0). */
  fillConstant?: number;
}

/** Overlap blending: every voxel is the weighted mean of all window outputs covering it. */
export class BlendAggregator {
  readonly #shape: Spatial3;
  readonly #channels: number;
  readonly #sum: Float64Array;
  readonly #weight: Float64Array;
  readonly #mode: "average" | "gaussian";
  readonly #fill: number;
  readonly #weights = new Map<string, Float64Array>();

  constructor(options: BlendAggregatorOptions) {
    this.#shape = options.shape;
    this.#channels = options.channels ?? 1;
    this.#mode = options.mode ?? "gaussian";
    this.#fill = options.fillConstant ?? 0;
    this.#sum = new Float64Array(spatialSize(options.shape) * this.#channels);
    this.#weight = new Float64Array(spatialSize(options.shape));
  }

  /** Adds one window output at `start`. */
  add(output: ChannelVolume, start: Spatial3): void {
    const key = output.shape.join("x");
    let w = this.#weights.get(key);
    if (!w) this.#weights.set(key, w = blendWeights(output.shape, this.#mode));
    const [nx, ny, nz] = this.#shape;
    const [wx, wy, wz] = output.shape;
    const nv = nx * ny * nz, wv = wx * wy * wz;
    for (let z = Math.max(0, -start[2]); z < Math.min(wz, nz - start[2]); z++) {
      for (let y = Math.max(0, -start[1]); y < Math.min(wy, ny - start[1]); y++) {
        for (let x = Math.max(0, -start[0]); x < Math.min(wx, nx - start[0]); x++) {
          const src = x + wx * (y + wy * z);
          const dst = x + start[0] + nx * (y + start[1] + ny * (z + start[2]));
          this.#weight[dst] += w[src];
          for (let c = 0; c < this.#channels; c++) this.#sum[c * nv + dst] += w[src] * output.data[c * wv + src];
        }
      }
    }
  }

  /** Adds a batch of outputs for the given windows (padding windows are skipped). */
  addBatch(outputs: readonly ChannelVolume[], windows: readonly Window[], role = "image"): void {
    windows.forEach((w, i) => {
      if (!w.padding) this.add(outputs[i], centredStart(w, role, outputs[i].shape));
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

/**
 * Test-time flip averaging: runs `predict` on the window and on each flipped copy (`flips` lists axis sets, e.g.
 * `[[0], [1], [0, 1]]`), flips each output back and returns the mean.
 */
export async function predictWithFlips(
  window: ChannelVolume,
  predict: (v: ChannelVolume) => ChannelVolume | Promise<ChannelVolume>,
  flips: readonly (readonly number[])[],
): Promise<ChannelVolume> {
  const first = await predict(window);
  const acc = Float64Array.from(first.data);
  for (const axes of flips) {
    const out = flipVolume(await predict(flipVolume(window, axes)), axes);
    for (let i = 0; i < acc.length; i++) acc[i] += out.data[i];
  }
  const data = new Float32Array(acc.length);
  for (let i = 0; i < acc.length; i++) data[i] = acc[i] / (flips.length + 1);
  return { data, shape: first.shape, channels: first.channels };
}
