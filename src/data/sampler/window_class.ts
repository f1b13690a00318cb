/**
 * The class a label volume gives a window (classification targets from a label image).
 *
 * @module
 */
import type { ChannelVolume, Window } from "../types.ts";

/**
 * The class a label volume gives a window: its only voxel (the index of the largest channel when that voxel holds a
 * one-hot vector), or its value at the window's centre (in the location of `role`, default `image`).
 *
 * @example
 * ```ts
 * import { classOf } from "./window_class.ts";
 * const label = { data: Float32Array.of(3), shape: [1, 1, 1] as const, channels: 1 };
 * classOf(label, { subject: "s", location: {}, data: {} }); // 3
 * ```
 */
export function classOf(label: ChannelVolume, window: Window, { role = "image" } = {}): number {
  if (label.data.length === 1) return label.data[0];
  if (label.shape.every((n) => n === 1)) {
    // One voxel, several channels: a one-hot class (csv_data_file with to_ohe).
    let best = 0;
    for (let c = 1; c < label.data.length; c++) if (label.data[c] > label.data[best]) best = c;
    return best;
  }
  const loc = window.location[role] ?? Object.values(window.location)[0];
  const c = [0, 1, 2].map((d) => Math.min(label.shape[d] - 1, Math.max(0, loc.start[d] + Math.floor(loc.size[d] / 2))));
  return label.data[c[0] + label.shape[0] * (c[1] + label.shape[1] * c[2])];
}
