/**
 * The NiftyNet side of `zoo pull`: `<cache>/<id>/models/model.ckpt-0.safetensors` (the entry's weights under DSL
 * names, network `zoo:<id>`) and `<cache>/<id>/config.ini`, so that `infer -c <cache>/<id>/config.ini` segments a
 * folder of scans and `restore_from` can point at the checkpoint to fine-tune (zoo/infer_config.ts).
 *
 * @module
 */
import { join } from "node:path";
import { saveCheckpoint } from "../dsl/mod.ts";
import { checkpointPath } from "../engine/mod.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";
import {
  loadZooModel,
  ZOO_CHECKPOINT_ITERATION,
  ZOO_CONFIG_FILE,
  zooCacheDir,
  zooInferenceConfig,
  zooNetworkName,
} from "../../zoo/mod.ts";

/** An entry's NiftyNet folder in the cache. */
export function zooModelDir(id: string, cacheDir = zooCacheDir()): string {
  return join(cacheDir, id);
}

/**
 * Writes the entry's checkpoint and config into `<cacheDir>/<id>/` (each file atomically; its files must be in the
 * cache) and returns the lines to print.
 */
export async function writeZooNiftyNetFolder(id: string, cacheDir = zooCacheDir()): Promise<string[]> {
  const model = await loadZooModel(id, { cacheDir });
  try {
    const dir = zooModelDir(id, cacheDir);
    const checkpoint = checkpointPath(dir, ZOO_CHECKPOINT_ITERATION);
    await Deno.mkdir(join(dir, "models"), { recursive: true });
    await saveCheckpoint(checkpoint, model.store, {
      iteration: ZOO_CHECKPOINT_ITERATION,
      network: zooNetworkName(id),
      extra: { source: `zoo:${id}` },
    });
    const config = join(dir, ZOO_CONFIG_FILE);
    await writeFileAtomic(config, zooInferenceConfig(model.manifest));
    return [`  ${config} (infer -c; checkpoint ${checkpoint})`];
  } finally {
    model.dispose();
  }
}
