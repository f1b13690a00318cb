/**
 * Inference sampling on a regular grid (NiftyNet's grid sampler): windows step by `window − 2·border` (less with
 * `overlap`) so that the window centres (the window minus `border` on each side) tile the whole volume; windows
 * near the edges reach past it and read zeros there.
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
  /** Fraction of the cropped window shared by neighbours, in [0, 1) (default 0: NiftyNet's tiling). */
  overlap?: number;
}

/** The border as three numbers (one number applies to every dimension); dimensions with a 1-voxel window have none. */
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

/** Window starts along one dimension (see the module doc). */
export function gridStarts1d(n: number, window: number, border: number, step: number): number[] {
  const inner = window - 2 * border;
  const first = border === 0 ? 0 : -border;
  const last = Math.max(first, n - window + border);
  const out: number[] = [];
  for (let s = first; s < last; s += step) out.push(s);
  out.push(last);
  return n <= inner ? [first] : out;
}

/** All window starts (of the largest window), x fastest. */
export function gridStarts(shape: Spatial3, options: GridSamplerOptions): Spatial3[] {
  const win = largestWindow(windowSizes(options.spatialWindowSize));
  const border = gridBorder(win, options.border);
  const overlap = options.overlap ?? 0;
  if (!(overlap >= 0 && overlap < 1)) throw new Error(`invalid overlap ${overlap}: expected a fraction in [0, 1)`);
  const axes = [0, 1, 2].map((d) => {
    const step = Math.max(1, Math.floor((win[d] - 2 * border[d]) * (1 - overlap)));
    return gridStarts1d(shape[d], win[d], border[d], step);
  });
  const out: Spatial3[] = [];
  for (const z of axes[2]) for (const y of axes[1]) for (const x of axes[0]) out.push([x, y, z]);
  return out;
}

/** Grid sampler: every window of the grid over one subject, in order. */
export function* gridSampler(subject: SamplerSubject, options: GridSamplerOptions): Generator<Window> {
  const sizes = windowSizes(options.spatialWindowSize);
  const first = Object.values(subject.volumes)[0];
  if (!first) throw new Error(`subject "${subject.id}" has no volumes to sample`);
  for (const start of gridStarts(first.shape, options)) yield windowAt(subject, start, sizes);
}
