/**
 * A zoo entry's weights as a NiftyTS checkpoint (safetensors, DSL variable names, network + options in the
 * metadata): a restore-initializer source (`restore_from` + `vars_to_restore`) for fine-tuning on one's own data.
 *
 * @module
 */
import { checkpointMetadata, type NamedTensors, writeSafetensors } from "../src/weights/mod.ts";
import type { ZooModel } from "./model.ts";

/** The entry's variables under their DSL names (`MeshNet/conv_0_relu/conv_/w` …). */
export function zooTensors(model: ZooModel): NamedTensors {
  const tensors: NamedTensors = new Map();
  for (const record of model.store.records()) {
    tensors.set(record.path, {
      dtype: "float32",
      shape: record.shape,
      data: record.variable.dataSync() as Float32Array,
    });
  }
  return tensors;
}

/** Writes the entry's weights as a safetensors checkpoint (atomically). */
export async function exportZooCheckpoint(model: ZooModel, path: string): Promise<void> {
  const metadata = checkpointMetadata({
    network: model.manifest.network.name,
    extra: {
      source: `zoo:${model.manifest.id}`,
      network_options: JSON.stringify(model.manifest.network.options),
    },
  });
  await writeSafetensors(path, zooTensors(model), { metadata });
}
