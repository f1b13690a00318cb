/**
 * Reads a tfjs convolution kernel call (input shapes + attrs) into a {@link ConvSpec}, with exactly the geometry
 * tfjs-backend-cpu's own kernel computes (`backend_util.computeConv2DInfo` / `computeConv3DInfo` with the same
 * arguments), or `null` when the call is one the fast path does not take (channels-first data, shapes that
 * disagree with the attrs).
 *
 * @module
 */
import { tf } from "../../deps.ts";
import type { ConvSpec } from "./dnnl_conv.ts";

/** tfjs's convolution kernel attrs, as the kernels receive them (all optional: we validate). */
export interface ConvAttrs {
  readonly strides?: number | number[];
  readonly pad?: "same" | "valid" | number | number[][];
  readonly dilations?: number | number[];
  readonly dataFormat?: string;
  readonly dimRoundingMode?: "floor" | "round" | "ceil";
}

type Conv2DInfo = ReturnType<typeof tf.backend_util.computeConv2DInfo>;
type Conv3DInfo = ReturnType<typeof tf.backend_util.computeConv3DInfo>;

/**
 * Padding after each axis that makes the padded input hold exactly the output positions tfjs computes (tfjs reads
 * out-of-range positions as zeros); never negative, oneDNN's floor division absorbs unused trailing input.
 */
function padsAfter(
  inSize: readonly number[],
  outSize: readonly number[],
  kernel: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
  padsBefore: readonly number[],
): number[] {
  return inSize.map((n, i) =>
    Math.max((outSize[i] - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - n - padsBefore[i], 0)
  );
}

/** A spec from per-axis geometry; the trailing pads follow from the sizes. */
function specOf(
  info: { batchSize: number; inChannels: number; outChannels: number },
  axes: Omit<ConvSpec, "batch" | "inChannels" | "outChannels" | "padsAfter">,
): ConvSpec {
  const { inSize, outSize, kernel, strides, dilations, padsBefore } = axes;
  return {
    batch: info.batchSize,
    inChannels: info.inChannels,
    outChannels: info.outChannels,
    ...axes,
    padsAfter: padsAfter(inSize, outSize, kernel, strides, dilations, padsBefore),
  };
}

function specFrom3d(info: Conv3DInfo): ConvSpec {
  return specOf(info, {
    inSize: [info.inDepth, info.inHeight, info.inWidth],
    outSize: [info.outDepth, info.outHeight, info.outWidth],
    kernel: [info.filterDepth, info.filterHeight, info.filterWidth],
    strides: [info.strideDepth, info.strideHeight, info.strideWidth],
    dilations: [info.dilationDepth, info.dilationHeight, info.dilationWidth],
    padsBefore: [info.padInfo.front, info.padInfo.top, info.padInfo.left],
  });
}

function specFrom2d(info: Conv2DInfo): ConvSpec {
  return specOf(info, {
    inSize: [info.inHeight, info.inWidth],
    outSize: [info.outHeight, info.outWidth],
    kernel: [info.filterHeight, info.filterWidth],
    strides: [info.strideHeight, info.strideWidth],
    dilations: [info.dilationHeight, info.dilationWidth],
    padsBefore: [info.padInfo.top, info.padInfo.left],
  });
}

const CHANNELS_LAST = new Set([undefined, "NHWC", "NDHWC", "channelsLast"]);

function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

/**
 * The geometry of a tfjs convolution call. `xShape` is the input (image) shape and `wShape` the filter shape (for
 * the backprop kernels: the `inputShape` / `filterShape` attrs); `dilated` is false for the backprop kernels, which
 * tfjs always runs with dilation 1. Returns `null` for channels-first data or anything tfjs itself would reject.
 */
export function convSpecOf(
  xShape: readonly number[],
  wShape: readonly number[],
  attrs: ConvAttrs,
  { dilated = true }: { dilated?: boolean } = {},
): ConvSpec | null {
  if (!CHANNELS_LAST.has(attrs.dataFormat)) return null;
  if (xShape.length !== wShape.length || (xShape.length !== 4 && xShape.length !== 5)) return null;
  if (xShape.some((n) => !Number.isInteger(n) || n < 1) || wShape.some((n) => !Number.isInteger(n) || n < 1)) {
    return null;
  }
  if (xShape[xShape.length - 1] !== wShape[wShape.length - 2]) return null;
  const dilations = dilated ? attrs.dilations ?? 1 : 1;
  try {
    if (xShape.length === 5) {
      const info = tf.backend_util.computeConv3DInfo(
        xShape as [number, number, number, number, number],
        wShape as [number, number, number, number, number],
        attrs.strides as [number, number, number],
        dilations as [number, number, number],
        attrs.pad as "same" | "valid",
      );
      return specFrom3d(info);
    }
    const info = tf.backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      wShape as [number, number, number, number],
      attrs.strides as [number, number],
      dilations as [number, number],
      attrs.pad as "same" | "valid",
      attrs.dimRoundingMode,
      false,
      "channelsLast",
    );
    return specFrom2d(info);
  } catch {
    return null;
  }
}

/** Output shape `[batch, …spatial, channels]` of a spec (the shape of y and dy). */
export function outputShapeOf(spec: ConvSpec): number[] {
  return [spec.batch, ...spec.outSize, spec.outChannels];
}

/** True when `dyShape` is the output shape the spec implies (the backprop kernels check their dy). */
export function matchesOutput(spec: ConvSpec, dyShape: readonly number[]): boolean {
  return sameShape(outputShapeOf(spec), dyShape);
}
