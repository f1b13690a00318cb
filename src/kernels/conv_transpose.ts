/**
 * The missing gradient of `Conv3DBackpropInputV2`, so that `tf.conv3dTranspose` trains.
 *
 * @module
 */
import { tf } from "../deps.ts";

/**
 * Gradient of `Conv3DBackpropInputV2` (op `tf.conv3dTranspose`, also conv3d's input gradient). The op computes
 * out = Bᵀ(dy, w), the adjoint of `conv3d(·, w)` with the same strides and padding, so for an upstream gradient g:
 * d dy = conv3d(g, w) and d w = conv3DBackpropFilter(g, dy) (the kernel gradient of that convolution at input g).
 */
export const conv3dBackpropInputGradConfig: tf.GradConfig = {
  kernelName: "Conv3DBackpropInputV2",
  inputsToSave: ["dy", "filter"],
  gradFunc: (g, saved, attrs) => {
    const [dy, filter] = saved;
    const strides = attrs.strides as [number, number, number];
    const pad = attrs.pad as "same" | "valid";
    const grad = g as tf.Tensor5D;
    return {
      dy: () => tf.conv3d(grad, filter as tf.Tensor5D, strides, pad),
      filter: () =>
        tf.engine().runKernel(
          "Conv3DBackpropFilterV2",
          { x: grad, dy },
          { strides, pad, filterShape: filter.shape } as unknown as tf.NamedAttrMap,
        ) as tf.Tensor,
    };
  },
};
