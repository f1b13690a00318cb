/**
 * Inference of whole volumes: {@link predictVolume} streams fully convolutional networks plane by plane (oneDNN
 * convolutions with fused bias and activation where available) in bounded memory, with exact results;
 * {@link predictVolumeAsync} gives the same on every backend (on webgpu: slabs on the device, read asynchronously);
 * {@link compileInference} compiles other networks (residual blocks, U-Nets) into fused oneDNN operations on reused buffers,
 * for windows and slabs; test-time flip augmentation with uncertainty maps ({@link predictWithFlips}); and
 * {@link normalizedChainLabels} streams chains with whole-volume instance normalisation in two passes per layer;
 * {@link predictLabelsFailsafe} fits label maps to a small GPU's limits and {@link withBackendFallback} moves to the
 * next backend when a device fails.
 *
 * @module
 */
export { compileInference, type InferenceProgram, type NotCompiled } from "./compile.ts";
export {
  type PredictMethod,
  predictVolume,
  predictVolumeAsync,
  type PredictVolumeOptions,
  type VolumePrediction,
} from "./predict_volume.ts";
export { flipCombinations, type FlipOptions, predictWithFlips, type UncertaintyMap } from "./test_time_flips.ts";
export {
  normalizedChainLabels,
  type NormalizedChainOptions,
  type NormalizedChainResult,
  type NormalizedLayer,
} from "./normalized_chain.ts";
export {
  asDeviceFailure,
  DeviceFailure,
  type DeviceLimits,
  deviceLimits,
  guardDevice,
  webglContext,
} from "./device_limits.ts";
export {
  DEFAULT_MAX_TENSOR_BYTES,
  type FailsafeOptions,
  type FailsafeResult,
  type FallbackOptions,
  planSlabPlanes,
  predictLabelsFailsafe,
  widestPerVoxel,
  withBackendFallback,
} from "./failsafe.ts";
