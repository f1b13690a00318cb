/**
 * Fast convolutions for tfjs's cpu backend under Deno: oneDNN (Debian `libdnnl2`, the library PyTorch uses)
 * through FFI, registered with tfjs's public kernel registry over the stock kernels, which remain the fallback.
 *
 * @module
 */
export {
  FAST_KERNELS_ENV,
  fastKernelCounts,
  fastKernelImplementations,
  type FastKernelOptions,
  type FastKernelStatus,
  fastKernelStatus,
  type FusedConvPlanner,
  fusedConvPlanner,
  type LayerPlanners,
  layerPlanners,
  registerFastCpuKernels,
  unregisterFastCpuKernels,
} from "./register.ts";
export { FAST_CONV_KERNELS, type FastConvKernelName } from "./cpu_conv_kernels.ts";
export { FAST_HOST_KERNELS, type FastHostKernelName, type KernelCounts } from "./host_kernels.ts";
export { type ConvAttrs, convSpecOf } from "./conv_spec.ts";
export {
  buildConvPlan,
  buildFusedConvPlan,
  type ConvPass,
  type ConvPlan,
  type ConvSpec,
  type EltwiseOp,
  type FusedConvOptions,
  type FusedConvPlan,
} from "./dnnl_conv.ts";
export { type LayerPlan, type PoolSpec, type ResampleSpec } from "./dnnl_layers.ts";
export { DNNL_LIBRARY } from "./_dnnl_ffi.ts";
