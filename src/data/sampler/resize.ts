/**
 * Resizing whole volumes to the window size (NiftyNet's resize sampler) and back (its resize aggregator), with
 * `scipy.ndimage.zoom`'s coordinate rule: output voxel o reads input `o·(n_in − 1)/(n_out − 1)` (corners aligned).
 *
 * @module
 */
import { affineTransform, type InterpOrder } from "../../geometry/resample.ts";
import type { ChannelVolume, Spatial3, Window } from "../types.ts";
import { spatialSize } from "../types.ts";
import type { SamplerSubject } from "./random_samplers.ts";
import { type WindowSizes, windowSizes } from "./window_sizes.ts";

/** Resizes every channel of a volume to `shape` (zoom rule above). */
export function resizeVolume(volume: ChannelVolume, shape: Spatial3, order: InterpOrder = 1): ChannelVolume {
  const s = volume.shape;
  const matrix = [0, 1, 2].map((r) =>
    [0, 1, 2].map((c) => (r === c && shape[r] > 1 ? (s[r] - 1) / (shape[r] - 1) : 0))
  );
  const nIn = spatialSize(s), nOut = spatialSize(shape);
  const out = new Float32Array(nOut * volume.channels);
  for (let c = 0; c < volume.channels; c++) {
    const r = affineTransform(volume.data.subarray(c * nIn, (c + 1) * nIn), {
      inShape: s,
      matrix,
      offset: [0, 0, 0],
      outShape: shape,
    }, { order });
    out.set(r, c * nOut);
  }
  return { data: out, shape: [shape[0], shape[1], shape[2]], channels: volume.channels };
}

/** Options for {@link resizeSampler}. */
export interface ResizeSamplerOptions {
  /** Role → INI `spatial_window_size`. */
  spatialWindowSize: WindowSizes;
  /** Role → interpolation order (the section's `interp_order`; default 1, use 0 for labels). */
  interpOrder?: Readonly<Record<string, InterpOrder>>;
}

/** Resize sampler: one window per subject, each role resized to its window size. */
export function* resizeSampler(subject: SamplerSubject, options: ResizeSamplerOptions): Generator<Window> {
  const sizes = windowSizes(options.spatialWindowSize);
  const data: Record<string, ChannelVolume> = {};
  const location: Record<string, { start: Spatial3; size: Spatial3 }> = {};
  for (const [role, v] of Object.entries(subject.volumes)) {
    const size = sizes[role] ?? Object.values(sizes)[0];
    data[role] = resizeVolume(v, size, options.interpOrder?.[role] ?? 1);
    location[role] = { start: [0, 0, 0], size };
  }
  yield { subject: subject.id, location, data };
}
