/**
 * Inference of whole volumes: {@link predictVolume} streams fully convolutional networks plane by plane (oneDNN
 * convolutions with fused bias and activation where available) in bounded memory, with exact results.
 *
 * @module
 */
export {
  type PredictMethod,
  predictVolume,
  type PredictVolumeOptions,
  type VolumePrediction,
} from "./predict_volume.ts";
