/**
 * wasm convolution backprop kernels rebuilt from wasm's forward conv2d/conv3d (which are correct), replacing
 * tfjs-backend-wasm 4.22's:
 *
 * - `Conv3DBackpropInputV2` (conv3d dx, conv3dTranspose): wrong values, zeros with stride 2;
 * - `Conv3DBackpropFilterV2` (conv3d dw): wrong with stride 2;
 * - `Conv2DBackpropFilter` (conv2d dw): not registered at all, so conv2d could not train on wasm.
 *
 * @module
 */
import type { tf } from "../deps.ts";
import { asTensor, kernelInput, perAxis } from "./_util.ts";
import { convFilterGrad, convInputGrad, type ConvPad, convPadsBefore } from "./conv_grads.ts";

/** Runs `fn` on the named kernel inputs as Tensors, disposing any wrapper it had to create. */
function withTensors(
  inputs: tf.NamedTensorInfoMap,
  names: string[],
  kernel: string,
  fn: (...t: tf.Tensor[]) => tf.Tensor,
): tf.Tensor {
  const wrapped = names.map((n) => asTensor(kernelInput(inputs, n, kernel)));
  try {
    return fn(...wrapped.map((w) => w.tensor));
  } finally {
    wrapped.forEach((w) => w.owned && w.tensor.dispose());
  }
}

interface BackpropAttrs {
  strides: number | number[];
  pad: ConvPad;
  dataFormat?: "NHWC" | "NCHW";
  dimRoundingMode?: "floor" | "round" | "ceil";
  inputShape?: number[];
  filterShape?: number[];
}

function geometry(xShape: number[], wShape: number[], a: BackpropAttrs, kernel: string) {
  if (a.dataFormat === "NCHW") throw new Error(`${kernel} on wasm: only NHWC is supported, got NCHW`);
  const rank = xShape.length - 2;
  const strides = perAxis(a.strides, rank);
  const dilations = perAxis(1, rank);
  return {
    strides,
    dilations,
    padsBefore: convPadsBefore(xShape, wShape, strides, dilations, a.pad, a.dimRoundingMode),
  };
}

/** wasm `Conv3DBackpropInputV2`: dx = {@link convInputGrad}. */
export const wasmConv3dBackpropInputConfig: tf.KernelConfig = {
  kernelName: "Conv3DBackpropInputV2",
  backendName: "wasm",
  kernelFunc: ({ inputs, attrs }) => {
    const a = attrs as unknown as BackpropAttrs;
    return withTensors(inputs, ["dy", "filter"], "Conv3DBackpropInputV2", (dy, filter) => {
      const xShape = a.inputShape!;
      return convInputGrad(dy, filter, xShape, geometry(xShape, filter.shape, a, "Conv3DBackpropInputV2"));
    });
  },
};

function filterGradConfig(kernelName: "Conv3DBackpropFilterV2" | "Conv2DBackpropFilter"): tf.KernelConfig {
  return {
    kernelName,
    backendName: "wasm",
    kernelFunc: ({ inputs, attrs }) => {
      const a = attrs as unknown as BackpropAttrs;
      return withTensors(inputs, ["x", "dy"], kernelName, (x, dy) => {
        const wShape = a.filterShape!;
        return convFilterGrad(x, dy, wShape, geometry(x.shape, wShape, a, kernelName));
      });
    },
  };
}

/** wasm `Conv3DBackpropFilterV2`: dw = {@link convFilterGrad}. */
export const wasmConv3dBackpropFilterConfig: tf.KernelConfig = filterGradConfig("Conv3DBackpropFilterV2");

/** wasm `Conv2DBackpropFilter` (absent from tfjs-backend-wasm): dw = {@link convFilterGrad}. */
export const wasmConv2dBackpropFilterConfig: tf.KernelConfig = filterGradConfig("Conv2DBackpropFilter");
