/**
 * Checkpoints and weight files, host-only (no tfjs): named tensors, the safetensors format with structured NiftyTS
 * metadata, atomic writes, the tfjs layers-model importer, and scope renaming.
 *
 * @example
 * ```ts
 * import { checkpointMetadata, readSafetensors, writeSafetensors } from "./mod.ts";
 * const w = { dtype: "float32" as const, shape: [2], data: new Float32Array([1, 2]) };
 * await writeSafetensors("ckpt.safetensors", new Map([["net/w", w]]), { metadata: checkpointMetadata({ iteration: 5 }) });
 * const { tensors } = await readSafetensors("ckpt.safetensors");
 * ```
 *
 * @module
 */
export * from "./named_tensors.ts";
export { CheckpointError } from "./errors.ts";
export {
  decodeSafetensors,
  type DecodeSafetensorsOptions,
  encodeSafetensors,
  type EncodeSafetensorsOptions,
  readSafetensors,
  type SafetensorsContents,
  type SafetensorsDType,
  type SafetensorsMetadata,
  writeSafetensors,
} from "./safetensors.ts";
export { type CheckpointInfo, checkpointMetadata, parseCheckpointMetadata } from "./metadata.ts";
export {
  decodeTfjsWeights,
  loadTfjsLayersModel,
  readTfjsLayersModel,
  summarizeTfjsTopology,
  type TfjsLayersModel,
  type TfjsLayerSummary,
  type TfjsModelFiles,
  type TfjsQuantization,
  type TfjsTopology,
  type TfjsWeightDType,
  type TfjsWeightGroup,
  type TfjsWeightSpec,
} from "./tfjs_layers.ts";
export { type RenameRule, renameTensors } from "./rename.ts";
