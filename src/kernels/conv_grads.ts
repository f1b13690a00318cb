/**
 * Gradients of channels-last 2D/3D convolutions written with forward convolutions only, so that they run on any
 * backend whose forward conv is correct and need no backprop kernel. For y[o] = Σₖ x[o·s + k·d − p] · w[k]
 * (stride s, dilation d, padding p before, per spatial axis):
 *
 * - dx[i] = Σₖ dy[(i + p − k·d) / s] · w[k]ᵀ: dy is stride-dilated (s − 1 zeros between samples), padded by
 *   (k − 1)·d − p before, and correlated with the spatially flipped kernel (in/out channels swapped), dilation d;
 * - dw[k] = Σₙ,ₒ x[o·s + k·d − p]ᵀ · dy[o]: x with batch and channel axes swapped, padded by p, is correlated with
 *   dy used as a [spatial…, n, cout] kernel at stride d and dilation s.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { padOrCrop, perAxis } from "./_util.ts";

/**
 * Kernel name of a backend's direct filter gradient of a stride-1 dilated convolution, batch 1 (inputs `x`, `dy`;
 * attrs {@link DilatedFilterGradAttrs}); used instead of the forward-convolution form where a backend registers it
 * (the cpu backend with oneDNN: `src/kernels/fast`).
 */
export const DILATED_FILTER_GRAD = "NiftyDilatedConvFilterGrad";

/** Attributes of {@link DILATED_FILTER_GRAD}. */
export interface DilatedFilterGradAttrs {
  readonly filterShape: number[];
  readonly dilations: number[];
  readonly padsBefore: number[];
}

/** Geometry of a convolution along its spatial axes. */
export interface ConvGeometry {
  /** Stride per spatial axis. */
  strides: readonly number[];
  /** Dilation per spatial axis. */
  dilations: readonly number[];
  /** Padding before each spatial axis (TensorFlow's split for "same"). */
  padsBefore: readonly number[];
}

/** A "valid" forward conv2d/conv3d (by rank) with the given strides and dilations. */
function validConv(x: tf.Tensor, w: tf.Tensor, strides: readonly number[], dilations: readonly number[]): tf.Tensor {
  if (x.rank === 4) {
    return tf.conv2d(
      x as tf.Tensor4D,
      w as tf.Tensor4D,
      [strides[0], strides[1]],
      "valid",
      "NHWC",
      [dilations[0], dilations[1]],
    );
  }
  return tf.conv3d(
    x as tf.Tensor5D,
    w as tf.Tensor5D,
    [strides[0], strides[1], strides[2]],
    "valid",
    "NDHWC",
    [dilations[0], dilations[1], dilations[2]],
  );
}

/** A stride-1 "same" forward conv2d/conv3d (by rank) with the given dilations. */
function sameConv(x: tf.Tensor, w: tf.Tensor, dilations: readonly number[]): tf.Tensor {
  if (x.rank === 4) {
    return tf.conv2d(x as tf.Tensor4D, w as tf.Tensor4D, 1, "same", "NHWC", [dilations[0], dilations[1]]);
  }
  return tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 1, "same", "NDHWC", [dilations[0], dilations[1], dilations[2]]);
}

/** Inserts s − 1 zeros after every element of each spatial axis (a trailing run that callers crop or keep). */
function strideDilate(t: tf.Tensor, strides: readonly number[]): tf.Tensor {
  return tf.tidy(() => {
    let out = t;
    strides.forEach((s, i) => {
      if (s === 1) return;
      const shape = out.shape;
      const pre = shape.slice(0, i + 1).reduce((a, b) => a * b, 1);
      const post = shape.slice(i + 2).reduce((a, b) => a * b, 1);
      const spread = tf.pad(tf.reshape(out, [pre, shape[i + 1], 1, post]), [[0, 0], [0, 0], [0, s - 1], [0, 0]]);
      const next = [...shape];
      next[i + 1] = shape[i + 1] * s;
      out = tf.reshape(spread, next);
    });
    return out;
  });
}

/** Input gradient of a convolution (NHWC/NDHWC, kernel [k…, cin, cout]) from forward convolutions. */
export function convInputGrad(
  dy: tf.Tensor,
  w: tf.Tensor,
  xShape: readonly number[],
  { strides, dilations, padsBefore }: ConvGeometry,
): tf.Tensor {
  return tf.tidy(() => {
    const rank = dy.rank - 2;
    const axes = [...Array(rank).keys()];
    const k = w.shape.slice(0, rank);
    const spread = strideDilate(dy, strides);
    const before = axes.map((i) => (k[i] - 1) * dilations[i] - padsBefore[i]);
    const after = axes.map((i) => xShape[i + 1] + (k[i] - 1) * dilations[i] - spread.shape[i + 1] - before[i]);
    const flipped = tf.transpose(tf.reverse(w, axes), [...axes, rank + 1, rank]);
    const ones = axes.map(() => 1);
    // stride 1 with equal pads of (k − 1)·d / 2: "same" padding inside the convolution, no padded copy of dy
    if (
      strides.every((s) => s === 1) &&
      axes.every((i) => before[i] === after[i] && 2 * before[i] === (k[i] - 1) * dilations[i])
    ) {
      return sameConv(dy, flipped, dilations);
    }
    return validConv(padOrCrop(spread, before, after), flipped, ones, dilations);
  });
}

/**
 * Kernel gradient of a convolution (NHWC/NDHWC, kernel [k…, cin, cout]) from one forward convolution. Strides and
 * dilations may not both exceed 1 on any axis pair, as for tfjs's forward conv itself.
 */
export function convFilterGrad(
  x: tf.Tensor,
  dy: tf.Tensor,
  wShape: readonly number[],
  { strides, dilations, padsBefore }: ConvGeometry,
): tf.Tensor {
  if (
    x.shape[0] === 1 && x.dtype === "float32" && strides.every((s) => s === 1) &&
    tf.getKernel(DILATED_FILTER_GRAD, tf.getBackend()) !== undefined
  ) {
    const attrs: DilatedFilterGradAttrs = {
      filterShape: [...wShape],
      dilations: [...dilations],
      padsBefore: [...padsBefore],
    };
    return tf.engine().runKernel(DILATED_FILTER_GRAD, { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
  }
  return tf.tidy(() => {
    const rank = x.rank - 2;
    const spatial = [...Array(rank).keys()].map((i) => i + 1);
    const k = wShape.slice(0, rank);
    // padded length that yields exactly k outputs: (k − 1)·d + (o − 1)·s + 1
    const after = padsBefore.map((p, i) =>
      (k[i] - 1) * dilations[i] + (dy.shape[i + 1] - 1) * strides[i] + 1 - x.shape[i + 1] - p
    );
    const xT = tf.transpose(padOrCrop(x, padsBefore, after), [rank + 1, ...spatial, 0]);
    const dyT = tf.transpose(dy, [...spatial, 0, rank + 1]);
    const g = validConv(xT, dyT, dilations, strides); // [cin, k…, cout]
    return tf.transpose(g, [...spatial, 0, rank + 1]);
  });
}

/** A tfjs conv `pad` attribute: "same", "valid", a number, or explicit [before, after] pairs per axis (2D). */
export type ConvPad = "same" | "valid" | number | number[][];

/** Padding before each spatial axis as tfjs computes it (TensorFlow's floor/ceil split for "same"). */
export function convPadsBefore(
  xShape: readonly number[],
  wShape: readonly number[],
  strides: readonly number[],
  dilations: readonly number[],
  pad: ConvPad,
  dimRoundingMode?: "floor" | "round" | "ceil",
): number[] {
  if (xShape.length === 4) {
    const info = tf.backend_util.computeConv2DInfo(
      xShape as [number, number, number, number],
      wShape as [number, number, number, number],
      [strides[0], strides[1]],
      [dilations[0], dilations[1]],
      pad as "same",
      dimRoundingMode,
    );
    return [info.padInfo.top, info.padInfo.left];
  }
  const info = tf.backend_util.computeConv3DInfo(
    xShape as [number, number, number, number, number],
    wShape as [number, number, number, number, number],
    [strides[0], strides[1], strides[2]],
    [dilations[0], dilations[1], dilations[2]],
    pad as "same" | "valid",
  );
  return [info.padInfo.front, info.padInfo.top, info.padInfo.left];
}

function dilatedGradConfig(kernelName: "Conv2D" | "Conv3D", rank: number, original?: tf.GradConfig): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ["x", "filter"],
    gradFunc: (dy, saved, attrs) => {
      const dilations = perAxis(attrs.dilations as number | number[] | undefined, rank);
      if (dilations.every((d) => d === 1) && original !== undefined) return original.gradFunc(dy, saved, attrs);
      const [x, w] = saved;
      if (attrs.dataFormat === "NCHW") throw new Error(`gradient of dilated ${kernelName}: only NHWC is supported`);
      const strides = perAxis(attrs.strides as number | number[], rank);
      if (strides.some((s) => s !== 1)) {
        throw new Error(`gradient of dilated ${kernelName}: strides [${strides}] must be 1 with dilation`);
      }
      const padsBefore = convPadsBefore(
        x.shape,
        w.shape,
        strides,
        dilations,
        attrs.pad as ConvPad,
        attrs.dimRoundingMode as "floor" | undefined,
      );
      const geometry = { strides, dilations, padsBefore };
      const g = dy as tf.Tensor;
      return {
        x: () => convInputGrad(g, w, x.shape, geometry),
        filter: () => convFilterGrad(x, g, w.shape, geometry),
      };
    },
  };
}

let convGradientsRegistered = false;

/**
 * Replaces tfjs's Conv2D/Conv3D gradients by ones that also handle dilation > 1 (dilation 1 still runs tfjs's
 * gradient). Idempotent; part of `registerKernelFixes`.
 */
export function registerConvGradients(): void {
  if (convGradientsRegistered) return;
  convGradientsRegistered = true;
  tf.registerGradient(dilatedGradConfig("Conv2D", 2, tf.getGradient("Conv2D")));
  tf.registerGradient(dilatedGradConfig("Conv3D", 3, tf.getGradient("Conv3D")));
}
