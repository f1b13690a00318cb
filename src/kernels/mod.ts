/**
 * tfjs 4.22 gaps filled for 3D training, through tfjs's public kernel and gradient registries:
 * {@link registerKernelFixes} installs them; {@link conv} is a differentiable 2D/3D convolution with any dilation;
 * {@link resize3d} is a differentiable trilinear/nearest 3D resize.
 *
 * @module
 */
export { backendHasKernel, fixedBackends, registerKernelFixes } from "./register.ts";
export { conv, type ConvOptions, type ConvPadding } from "./conv.ts";
export { resize3d, type Resize3dMethod, type Resize3dOptions } from "./resize3d.ts";
export { convFilterGrad, type ConvGeometry, convInputGrad } from "./conv_grads.ts";
export {
  BATCH_NORM_TRAINING,
  BATCH_NORM_TRAINING_GRAD,
  type BatchNormActivation,
  batchNormTrainingGradHost,
  batchNormTrainingHost,
} from "./batch_norm.ts";
export {
  SPARSE_SOFTMAX_XENT,
  SPARSE_SOFTMAX_XENT_GRAD,
  sparseSoftmaxXentGradHost,
  sparseSoftmaxXentHost,
} from "./softmax_xent.ts";
export { ADAM_UPDATE, type AdamStep, adamUpdateHost } from "./adam.ts";
