/**
 * Loading a zoo entry under Deno: its files (downloaded or copied from a mirror into the cache, verified), then the
 * model built by {@link zooModelFromLayers}, pre-model first.
 *
 * @module
 */
import { readTfjsLayersModel } from "../src/weights/mod.ts";
import type { ZooManifest } from "./manifest.ts";
import { getZooEntry } from "./registry.ts";
import { ensureZooFiles } from "./cache.ts";
import { type ZooModel, zooModelFromLayers, type ZooSourceOptions } from "./model.ts";

/**
 * Loads an entry by id (or manifest): verified files, weights into DSL names, variables created.
 *
 * @example
 * ```ts
 * import { loadZooModel } from "./load.ts";
 * const model = await loadZooModel("gwm-light", { mirror: "../shared/data/brainchop" });
 * model.dispose();
 * ```
 */
export async function loadZooModel(entry: string | ZooManifest, options: ZooSourceOptions = {}): Promise<ZooModel> {
  const manifest = typeof entry === "string" ? getZooEntry(entry) : entry;
  const paths = await ensureZooFiles(manifest.weights.files, options);
  const keras = await readTfjsLayersModel(paths[manifest.weights.modelJson.path]);
  const preModel = manifest.input.preModel ? await loadZooModel(manifest.input.preModel, options) : undefined;
  return zooModelFromLayers(manifest, keras, preModel);
}
