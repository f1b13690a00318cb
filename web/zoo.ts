/**
 * The model zoo as a browser sees it: zoo/mod.ts without the file cache (`cache.ts`, `load.ts`), with
 * {@link fetchZooModel} to load an entry from the serving origin's `/zoo/` mirror instead.
 *
 * @module
 */
export type { ZooFile } from "../zoo/files.ts";
export type { ZooLabel } from "../zoo/_brainchop_labels.ts";
export { validateManifest, ZOO_TASKS, type ZooManifest } from "../zoo/manifest.ts";
export { ZOO_ENTRIES } from "../zoo/entries.ts";
export { getZooEntry, zooIds } from "../zoo/registry.ts";
export { type ZooModel, zooModelFromLayers, zooNetwork } from "../zoo/model.ts";
export { fetchZooFile, fetchZooModel, type FetchZooOptions } from "../zoo/fetch.ts";
export { type NetworkOutput, runNetwork, runNetworkAsync, type RunNetworkOptions } from "../zoo/infer.ts";
export { keepLargestComponent } from "../src/evaluation/morphology.ts";
export { zooTensors } from "../zoo/export.ts";
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
} from "../zoo/segment.ts";
