/**
 * The parts of the model zoo that run anywhere (Deno and browsers): manifests, the registry, models built from
 * tfjs layers-model files, fetching from an origin's mirror, inference and the segmentation pipeline. `mod.ts`
 * adds the file cache and path-based loading for Deno; `web/zoo.ts` is this module as the browser bundle sees it.
 *
 * @module
 */
export type { ZooFile } from "./files.ts";
export type { ZooLabel } from "./_brainchop_labels.ts";
export { validateManifest, ZOO_TASKS, type ZooManifest } from "./manifest.ts";
export { ZOO_ENTRIES } from "./entries.ts";
export { getZooEntry, zooIds } from "./registry.ts";
export { type ZooModel, zooModelFromLayers, zooModelFromTensors, zooNetwork, type ZooTensorsOptions } from "./model.ts";
export { BACKGROUND_LABEL, checkLabels, type LabelledVolume, zooTrainingData } from "./finetune_data.ts";
export { fetchZooFile, fetchZooModel, type FetchZooOptions } from "./fetch.ts";
export { type NetworkOutput, runNetwork, runNetworkAsync, type RunNetworkOptions } from "./infer.ts";
export { keepLargestComponent } from "../src/evaluation/morphology.ts";
export { zooCheckpointBytes, type ZooCheckpointOptions, zooTensors } from "./export.ts";
export {
  checkZooInput,
  type LabelVolume,
  MIN_FIELD_OF_VIEW_MM,
  segmentConformed,
  segmentConformedAsync,
  segmentImage,
  segmentImageAsync,
  type SegmentOptions,
  type SegmentResult,
  volumesCsv,
} from "./segment.ts";
