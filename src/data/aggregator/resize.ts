/**
 * The resize aggregator (NiftyNet): a whole-volume output made by the resize sampler is resized back to the
 * subject's shape.
 *
 * @module
 */
import type { InterpOrder } from "../../geometry/resample.ts";
import type { ChannelVolume, Spatial3 } from "../types.ts";
import { resizeVolume } from "../sampler/resize.ts";

/** Resizes a window output back to the subject's shape (`output_interp_order`, default 0). */
export function resizeAggregate(
  output: ChannelVolume,
  shape: Spatial3,
  options: { order?: InterpOrder } = {},
): ChannelVolume {
  return resizeVolume(output, shape, options.order ?? 0);
}
