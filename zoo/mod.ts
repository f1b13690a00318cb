/**
 * The model zoo: pretrained brain MRI models (brainchop's MeshNets) as typed manifests, loaded into DSL networks,
 * and a pipeline that segments a scan end to end on its own grid.
 *
 * @example
 * ```ts
 * import { zoo } from "../mod.ts";
 * const result = await zoo.segment("gwm-light", "t1.nii.gz", { mirror: "../shared/data/brainchop" });
 * console.log(result.volumes);
 * ```
 *
 * @module
 */
import { type Image, readImage } from "../src/io/mod.ts";
import type { ZooModel, ZooSourceOptions } from "./model.ts";
import { loadZooModel } from "./load.ts";
import { segmentImage, type SegmentOptions, type SegmentResult } from "./segment.ts";

export * from "./portable.ts";
export type { ZooSourceOptions } from "./model.ts";
export { loadZooModel } from "./load.ts";
export { exportZooCheckpoint } from "./export.ts";
export { zooIdOfNetworkName, ZooNetwork, zooNetworkName } from "./network.ts";
export {
  ZOO_CHECKPOINT_ITERATION,
  ZOO_CONFIG_FILE,
  ZOO_CONFIG_IMAGE_SECTION,
  zooInferenceConfig,
} from "./infer_config.ts";
export { cachedState, ensureZooFiles, zooCacheDir, type ZooProgress } from "./cache.ts";

/** Loads an entry by id (weights verified, imported into its DSL network). */
export function load(id: string, options: ZooSourceOptions = {}): Promise<ZooModel> {
  return loadZooModel(id, options);
}

/**
 * Segments a scan (an `Image` or a NIfTI/DICOM path) with an entry id or a loaded model; a model loaded here is
 * disposed before returning.
 */
export async function segment(
  model: string | ZooModel,
  image: Image | string,
  options: SegmentOptions & ZooSourceOptions = {},
): Promise<SegmentResult> {
  const loaded = typeof model === "string" ? await loadZooModel(model, options) : model;
  try {
    const input = typeof image === "string" ? await readImage(image) : image;
    return segmentImage(loaded, input, { source: typeof image === "string" ? image : undefined, ...options });
  } finally {
    if (typeof model === "string") loaded.dispose();
  }
}
