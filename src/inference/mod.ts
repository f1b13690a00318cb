/**
 * Inference of whole volumes: {@link predictVolume} streams fully convolutional networks plane by plane (oneDNN
 * convolutions with fused bias and activation where available) in bounded memory, with exact results;
 * {@link predictVolumeAsync} gives the same on every backend (on webgpu: slabs on the device, read asynchronously);
 * and test-time flip augmentation with uncertainty maps ({@link predictWithFlips}).
 *
 * @module
 */
export {
  type PredictMethod,
  predictVolume,
  predictVolumeAsync,
  type PredictVolumeOptions,
  type VolumePrediction,
} from "./predict_volume.ts";
export { flipCombinations, type FlipOptions, predictWithFlips, type UncertaintyMap } from "./test_time_flips.ts";
