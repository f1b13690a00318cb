/**
 * The worker's fine-tuning: a copy of a zoo entry restored by name from its weights (restore-initializer),
 * `vars_to_freeze` applied, trained with `fineTune` on windows around the given labels on a backend whose gradients
 * were checked against cpu's; then its weights segment (`tunedZooModel`) and download as a checkpoint
 * (`tunedCheckpoint`: the bytes `zoo export` writes, read by `cli.ts` as a checkpoint or `restore_from`).
 *
 * @module
 */
import { decodeNiftiFile, type Image } from "../src/io/mod.ts";
import { fineTune } from "../src/engine/finetune.ts";
import { zooTrainingData } from "../zoo/finetune_data.ts";
import { zooCheckpointBytes } from "../zoo/export.ts";
import { type ZooModel, zooModelFromTensors } from "../zoo/model.ts";
import type { FineTuneSettings, Reply } from "./protocol.ts";
import { useTrainingBackend } from "./training_backend.ts";

let tuned: { model: ZooModel; settings: FineTuneSettings; iterations: number } | undefined;

/** The fine-tuned model of entry `id`; one clear error when there is none. */
export function tunedZooModel(id: string): ZooModel {
  if (!tuned || tuned.model.manifest.id !== id) throw new Error(`no fine-tuned weights for ${id}: fine-tune first`);
  return tuned.model;
}

/**
 * Fine-tunes a copy of `base` on `labels` (NIfTI bytes on the scan's grid) and keeps it as the tuned model;
 * `post` gets each iteration's loss.
 */
export async function runFineTune(
  base: ZooModel,
  scan: { image: Image; name: string },
  labels: { name: string; bytes: ArrayBuffer },
  settings: FineTuneSettings,
  post: (reply: Reply) => void,
): Promise<Reply> {
  const start = performance.now();
  const training = await useTrainingBackend(settings.backend);
  const labelImage = decodeNiftiFile(new Uint8Array(labels.bytes), labels.name);
  const data = zooTrainingData(base, scan.image, labelImage, { source: scan.name, labelSource: labels.name });
  tuned?.model.dispose();
  tuned = undefined;
  const model = zooModelFromTensors(base.manifest, await base.store.toNamedTensors(), {
    sourceName: `zoo:${base.manifest.id}`,
    preModel: base.preModel,
    ownsPreModel: false,
    varsToFreeze: settings.varsToFreeze,
  });
  try {
    const losses = await fineTune(model.network, model.store, data, {
      iterations: settings.iterations,
      learningRate: settings.learningRate,
      windowSize: settings.windowSize,
      nClasses: base.manifest.network.options.numClasses,
      seed: settings.seed,
      onIteration: (iteration, loss) =>
        post({ type: "loss", iteration, iterations: settings.iterations, loss, backend: training.backend }),
    });
    tuned = { model, settings, iterations: losses.length };
    const frozen = model.store.records().filter((r) => r.declaredTrainable && !r.trainable).length;
    return {
      type: "finetuned",
      losses,
      backend: training.backend,
      note: training.note,
      labelled: data.voxels.length,
      frozen,
      variables: model.store.records().length,
      seconds: (performance.now() - start) / 1000,
    };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/** The tuned weights as a NiftyTS safetensors checkpoint (DSL names, training settings in the metadata). */
export async function tunedCheckpoint(): Promise<Reply> {
  if (!tuned) throw new Error("no fine-tuned weights: fine-tune first");
  const { model, settings, iterations } = tuned;
  const bytes = await zooCheckpointBytes(model, {
    iteration: iterations,
    source: `zoo:${model.manifest.id} fine-tuned in the browser`,
    config: {
      zoo_entry: model.manifest.id,
      optimiser: "adam",
      loss_type: "CrossEntropy (labelled voxels only)",
      lr: settings.learningRate,
      max_iter: settings.iterations,
      window_size: settings.windowSize,
      vars_to_freeze: settings.varsToFreeze,
      seed: settings.seed,
    },
  });
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
  return { type: "checkpoint", bytes: buffer, name: `${model.manifest.id}_finetuned.safetensors` };
}
