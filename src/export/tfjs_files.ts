/**
 * Writing a Keras model as a tfjs layers-model folder: `model.json` (format `layers-model`, the Keras topology and
 * one weights-manifest group) and the float32 little-endian weights split into shards of at most 4 MiB
 * (`group1-shard1of2.bin` …, as the tfjs converter names them). Each file is written atomically, the shards
 * before model.json, so a failed export never leaves a model.json pointing at missing or partial shards.
 *
 * @module
 */
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic_write.ts";
import { VERSION } from "../version.ts";
import type { KerasModel } from "./keras.ts";

/** Shard size of the tfjs converter's default. */
export const SHARD_BYTES = 4 * 1024 * 1024;

/** The files of a tfjs layers-model: model.json's content and the shard bytes by file name. */
export interface TfjsLayersFiles {
  readonly modelJson: Record<string, unknown>;
  readonly shards: ReadonlyMap<string, Uint8Array>;
}

/**
 * Lays out `model` as tfjs layers-model files (nothing written).
 *
 * @example
 * ```ts
 * const { modelJson, shards } = tfjsLayersFiles(kerasModelFromTrace(trace));
 * ```
 */
export function tfjsLayersFiles(model: KerasModel, { shardBytes = SHARD_BYTES } = {}): TfjsLayersFiles {
  const total = model.weights.reduce((n, w) => n + w.data.length * 4, 0);
  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  let offset = 0;
  for (const w of model.weights) {
    for (const v of w.data) {
      view.setFloat32(offset, v, true);
      offset += 4;
    }
  }
  const count = Math.max(1, Math.ceil(total / shardBytes));
  const shards = new Map<string, Uint8Array>();
  for (let i = 0; i < count; i++) {
    shards.set(
      `group1-shard${i + 1}of${count}.bin`,
      bytes.subarray(i * shardBytes, Math.min(total, (i + 1) * shardBytes)),
    );
  }
  return {
    modelJson: {
      format: "layers-model",
      generatedBy: `NiftyTS ${VERSION}`,
      convertedBy: null,
      modelTopology: model.modelTopology,
      weightsManifest: [{
        paths: [...shards.keys()],
        weights: model.weights.map((w) => ({ name: w.name, shape: w.shape, dtype: "float32" })),
      }],
    },
    shards,
  };
}

/** Writes the files into folder `out` (created if needed); returns the paths written, model.json last. */
export async function writeTfjsLayersModel(out: string, model: KerasModel): Promise<string[]> {
  const { modelJson, shards } = tfjsLayersFiles(model);
  await Deno.mkdir(out, { recursive: true });
  const written: string[] = [];
  for (const [name, data] of shards) {
    await writeFileAtomic(join(out, name), data);
    written.push(join(out, name));
  }
  await writeFileAtomic(join(out, "model.json"), JSON.stringify(modelJson));
  written.push(join(out, "model.json"));
  return written;
}
