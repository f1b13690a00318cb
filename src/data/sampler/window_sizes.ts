/**
 * Window sizes per role and their alignment: roles may use different `spatial_window_size`s (e.g. a smaller label
 * window for valid convolutions); all windows of one sample share a centre.
 *
 * @module
 */
import { type Spatial3, toSpatial3, type WindowLocation } from "../types.ts";

/** Role → `spatial_window_size` (1–3 numbers). */
export type WindowSizes = Readonly<Record<string, readonly number[]>>;

/** Normalises sizes to three dimensions and checks they fit the volume's dimensionality. */
export function windowSizes(sizes: WindowSizes): Record<string, Spatial3> {
  const out: Record<string, Spatial3> = {};
  for (const [role, s] of Object.entries(sizes)) out[role] = toSpatial3(s, `spatial_window_size of "${role}"`);
  if (Object.keys(out).length === 0) throw new Error("no spatial_window_size given for any role");
  return out;
}

/** The largest window over roles, per dimension (the one whose placement the sampler chooses). */
export function largestWindow(sizes: Readonly<Record<string, Spatial3>>): Spatial3 {
  const all = Object.values(sizes);
  return [0, 1, 2].map((d) => Math.max(...all.map((s) => s[d]))) as unknown as Spatial3;
}

/**
 * Locations of every role's window, given the start of the largest window: NiftyNet's "almost concentric" rule
 * (`sampler_uniform_v2.py`): the shared centre is `start + floor(largest / 2)` and each role's window starts
 * `floor(size / 2)` before it.
 */
export function alignedLocations(
  start: Spatial3,
  sizes: Readonly<Record<string, Spatial3>>,
): Record<string, WindowLocation> {
  const big = largestWindow(sizes);
  const out: Record<string, WindowLocation> = {};
  for (const [role, size] of Object.entries(sizes)) {
    out[role] = {
      start: [0, 1, 2].map((d) => start[d] + Math.floor(big[d] / 2) - Math.floor(size[d] / 2)) as unknown as Spatial3,
      size,
    };
  }
  return out;
}
