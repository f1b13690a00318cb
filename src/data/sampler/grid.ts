/**
 * Inference sampling on a regular grid, with NiftyNet 0.6's rule (`niftynet/engine/sampler_grid_v2.py`,
 * `grid_spatial_coordinates` and `_enumerate_step_points`): along each axis windows start at 0 and step by
 * `window − 2·border` while they fit, a last window is snapped to the end (`n − window`), and when that leaves
 * exactly two starts a third is added half way (rounded half to even, as `numpy.round`). Every window lies inside
 * the volume, so no window reads past it; a volume smaller than the window is an error (pad it with
 * `volume_padding_size` or `volume_padding_to_size`). Windows come in NiftyNet's order (`numpy.meshgrid`: y
 * slowest, then x, z fastest), which decides which window wins where the grid aggregator's windows overlap.
 *
 * @module
 */
import type { Spatial3, Window } from "../types.ts";
import type { SamplerSubject } from "./random_samplers.ts";
import { windowAt } from "./random_samplers.ts";
import { largestWindow, type WindowSizes, windowSizes } from "./window_sizes.ts";

/** Options for {@link gridSampler} and {@link gridStarts}. */
export interface GridSamplerOptions {
  /** Role → INI `spatial_window_size`. */
  spatialWindowSize: WindowSizes;
  /** INI `border` ([INFERENCE]): voxels cropped from each side of every output window (default 0). */
  border?: readonly number[];
  /**
   * Library option (no INI key): fraction of the cropped window shared by neighbours, in [0, 1); the step becomes
   * `floor((window − 2·border)·(1 − overlap))`. Default 0, NiftyNet's step.
   */
  overlap?: number;
}

/**
 * The border as three numbers (one number applies to every dimension); dimensions with a 1-voxel window have none
 * (NiftyNet would crop them away; see docs/NIFTYNET_PARITY.md).
 */
export function gridBorder(window: Spatial3, border: readonly number[] = [0]): Spatial3 {
  if (border.length > 3 || !border.every((v) => Number.isInteger(v) && v >= 0)) {
    throw new Error(`invalid border ${JSON.stringify(border)}: expected 1 to 3 non-negative integers`);
  }
  const b = border.length === 1 ? [border[0], border[0], border[0]] : [border[0] ?? 0, border[1] ?? 0, border[2] ?? 0];
  const out = [0, 1, 2].map((d) => (window[d] === 1 ? 0 : b[d])) as unknown as Spatial3;
  for (let d = 0; d < 3; d++) {
    if (window[d] - 2 * out[d] < 1) {
      throw new Error(
        `border ${out.join(",")} leaves nothing of window ${window.join("x")}: expected 2*border < window`,
      );
    }
  }
  return out;
}

/** `numpy.round` of a half-integer or integer: halves go to the even neighbour. */
function roundHalfEven(v: number): number {
  const f = Math.floor(v);
  const r = v - f;
  if (r < 0.5) return f;
  if (r > 0.5) return f + 1;
  return f % 2 === 0 ? f : f + 1;
}

/**
 * Window starts along one axis of length `n` (NiftyNet's `_enumerate_step_points(0, n, window, step)`), in
 * NiftyNet's order: the sorted starts, then the added middle one if any.
 */
export function gridStarts1d(n: number, window: number, step: number): number[] {
  const win = Math.max(1, window), stride = Math.max(1, step), end = Math.max(0, n);
  const points: number[] = [];
  for (let s = 0; s + win <= end; s += stride) points.push(s);
  points.push(Math.max(end - win, 0));
  const sorted = [...new Set(points)].sort((a, b) => a - b);
  if (sorted.length !== 2) return sorted;
  const middle = roundHalfEven((sorted[0] + sorted[1]) / 2);
  return sorted.includes(middle) ? sorted : [...sorted, middle];
}

/** All window starts (of the largest window), in NiftyNet's order: y slowest, then x, z fastest. */
export function gridStarts(shape: Spatial3, options: GridSamplerOptions): Spatial3[] {
  const win = largestWindow(windowSizes(options.spatialWindowSize));
  const border = gridBorder(win, options.border);
  const overlap = options.overlap ?? 0;
  if (!(overlap >= 0 && overlap < 1)) throw new Error(`invalid overlap ${overlap}: expected a fraction in [0, 1)`);
  if (win.some((w, d) => w > shape[d])) {
    throw new Error(
      `grid window ${win.join("x")} is larger than the volume ${shape.join("x")}: ` +
        `reduce [INFERENCE] spatial_window_size or pad with volume_padding_size or volume_padding_to_size`,
    );
  }
  const axes = [0, 1, 2].map((d) => {
    const step = Math.max(1, Math.floor((win[d] - 2 * border[d]) * (1 - overlap)));
    return gridStarts1d(shape[d], win[d], step);
  });
  const out: Spatial3[] = [];
  for (const y of axes[1]) for (const x of axes[0]) for (const z of axes[2]) out.push([x, y, z]);
  return out;
}

/** Grid sampler: every window of the grid over one subject, in order. */
export function* gridSampler(subject: SamplerSubject, options: GridSamplerOptions): Generator<Window> {
  const sizes = windowSizes(options.spatialWindowSize);
  const first = Object.values(subject.volumes)[0];
  if (!first) throw new Error(`subject "${subject.id}" has no volumes to sample`);
  for (const start of gridStarts(first.shape, options)) yield windowAt(subject, start, sizes);
}
