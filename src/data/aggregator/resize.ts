/**
 * The resize aggregator (NiftyNet 0.6's `engine/windows_aggregator_resize.py`): a whole-volume output made by the
 * resize sampler is edge-padded by `border` (when given) and resized back to the subject's (padded) shape.
 *
 * @module
 */
import type { InterpOrder } from "../../geometry/resample.ts";
import type { ChannelVolume, Spatial3 } from "../types.ts";
import { resizeVolume } from "../sampler/resize.ts";
import { applyPadding } from "../preprocess/padding.ts";

/**
 * Resizes a window output back to the subject's shape (`output_interp_order`, default 0), after padding it by
 * `border` voxels per side with its edge values (INI `border`; axes of one voxel are not padded).
 */
export function resizeAggregate(
  output: ChannelVolume,
  shape: Spatial3,
  options: { order?: InterpOrder; border?: readonly number[] } = {},
): ChannelVolume {
  const b = options.border ?? [0];
  const pad = [0, 1, 2].map((
    d,
  ) => (output.shape[d] === 1 ? 0 : (b.length === 1 ? b[0] : b[d] ?? 0))) as unknown as Spatial3;
  const padded = pad.some((v) => v > 0) ? applyPadding(output, { before: pad, after: pad }, "edge") : output;
  return resizeVolume(padded, shape, options.order ?? 0);
}
