/**
 * A zoo entry's weights as a NiftyTS checkpoint (safetensors, DSL variable names, network + options in the
 * metadata): a restore-initializer source (`restore_from` + `vars_to_restore`) for fine-tuning on one's own data.
 * {@link zooCheckpointBytes} is the format (portable: the web app's fine-tuned download is these bytes);
 * {@link exportZooCheckpoint} writes it to a file.
 *
 * @module
 */
import { checkpointMetadata, encodeSafetensors, type NamedTensors, writeSafetensors } from "../src/weights/mod.ts";
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

/** What a zoo checkpoint records besides the weights. */
export interface ZooCheckpointOptions {
  /** Training iterations behind the weights (fine-tuning); absent for the published weights. */
  readonly iteration?: number;
  /** The training settings, as JSON (the `config` metadata field). */
  readonly config?: unknown;
  /** Where the weights come from (metadata `source`, default `zoo:<id>`). */
  readonly source?: string;
}

function zooMetadata(model: ZooModel, options: ZooCheckpointOptions) {
  return checkpointMetadata({
    iteration: options.iteration,
    network: model.manifest.network.name,
    config: options.config,
    extra: {
      source: options.source ?? `zoo:${model.manifest.id}`,
      network_options: JSON.stringify(model.manifest.network.options),
    },
  });
}

/** The model's weights as safetensors bytes with NiftyTS checkpoint metadata (read back by `readCheckpoint`). */
export async function zooCheckpointBytes(model: ZooModel, options: ZooCheckpointOptions = {}): Promise<Uint8Array> {
  return encodeSafetensors(await model.store.toNamedTensors(), { metadata: zooMetadata(model, options) });
}

/** Writes the entry's weights as a safetensors checkpoint (atomically). */
export async function exportZooCheckpoint(model: ZooModel, path: string): Promise<void> {
  await writeSafetensors(path, zooTensors(model), { metadata: zooMetadata(model, {}) });
}
