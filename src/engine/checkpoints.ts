/**
 * Training checkpoints in `model_dir`, NiftyNet's layout of the checkpoint files of `src/dsl/checkpoint.ts`:
 * `<model_dir>/models/model.ckpt-<iteration>.safetensors` (variables, optimizer slots, metadata with the effective
 * config and the driver state) and `model.ckpt-<iteration>.config.json` beside it (the effective config, readable
 * without tools). Both are written atomically, the config first, so a listed checkpoint always has its config; a
 * crash at any moment leaves only complete files under their final names.
 *
 * @module
 */
import { join } from "node:path";
import { type NamedTensors, readSafetensors } from "../weights/mod.ts";
import { readCheckpoint, saveCheckpoint, type VariableStore } from "../dsl/mod.ts";
import { writeFileAtomic } from "../util/atomic_write.ts";
import type { JsonValue } from "./application.ts";

const NAME = /^model\.ckpt-(\d+)\.safetensors$/;

/** Folder of the checkpoints of a `model_dir`. */
export function checkpointFolder(modelDir: string): string {
  return join(modelDir, "models");
}

/** Path of the checkpoint of `iteration`. */
export function checkpointPath(modelDir: string, iteration: number): string {
  return join(checkpointFolder(modelDir), `model.ckpt-${iteration}.safetensors`);
}

/** Path of the config saved beside the checkpoint of `iteration`. */
export function checkpointConfigPath(modelDir: string, iteration: number): string {
  return join(checkpointFolder(modelDir), `model.ckpt-${iteration}.config.json`);
}

/** Iterations that have a checkpoint, ascending. */
export async function listCheckpoints(modelDir: string): Promise<number[]> {
  const out: number[] = [];
  try {
    for await (const e of Deno.readDir(checkpointFolder(modelDir))) {
      const m = NAME.exec(e.name);
      if (e.isFile && m) out.push(Number(m[1]));
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return [];
    throw e;
  }
  return out.sort((a, b) => a - b);
}

/** The newest checkpoint's iteration, or undefined. */
export async function latestCheckpoint(modelDir: string): Promise<number | undefined> {
  return (await listCheckpoints(modelDir)).at(-1);
}

/** What a training checkpoint holds besides the variables. */
export interface TrainingCheckpoint {
  readonly iteration: number;
  readonly network: string;
  /** The effective config as JSON. */
  readonly config: Record<string, unknown>;
  /** Optimizer slots (`<var>/<Optimizer>/<slot>`). */
  readonly slots: NamedTensors;
  /** Driver state: seed, sampler positions, validation history. */
  readonly state: JsonValue;
}

/** Writes the checkpoint of `checkpoint.iteration` (config JSON first, then the tensors) and returns its path. */
export async function writeTrainingCheckpoint(
  modelDir: string,
  store: VariableStore,
  checkpoint: TrainingCheckpoint,
): Promise<string> {
  await Deno.mkdir(checkpointFolder(modelDir), { recursive: true });
  const { iteration } = checkpoint;
  await writeFileAtomic(checkpointConfigPath(modelDir, iteration), JSON.stringify(checkpoint.config, null, 2) + "\n");
  const path = checkpointPath(modelDir, iteration);
  await saveCheckpoint(path, store, {
    iteration,
    network: checkpoint.network,
    config: checkpoint.config,
    slots: checkpoint.slots,
    extra: { driver_state: JSON.stringify(checkpoint.state) },
  });
  return path;
}

/** A training checkpoint read back. */
export interface LoadedTrainingCheckpoint {
  readonly path: string;
  readonly iteration: number;
  readonly tensors: NamedTensors;
  readonly config?: unknown;
  /** Undefined for checkpoints not written by the driver. */
  readonly state?: JsonValue;
}

/** Reads the checkpoint of `iteration` in `modelDir`. */
export async function readTrainingCheckpoint(modelDir: string, iteration: number): Promise<LoadedTrainingCheckpoint> {
  const path = checkpointPath(modelDir, iteration);
  const have = await listCheckpoints(modelDir);
  if (!have.includes(iteration)) {
    throw new Error(
      `no checkpoint for iteration ${iteration} in "${checkpointFolder(modelDir)}"` +
        (have.length ? ` (have: ${have.join(", ")})` : " (it has none)"),
    );
  }
  let loaded: Awaited<ReturnType<typeof readCheckpoint>>;
  try {
    loaded = await readCheckpoint(path);
  } catch (e) {
    throw new Error(`${(e as Error).message}${await intactHint(modelDir, have.filter((it) => it < iteration))}`);
  }
  const { tensors, info } = loaded;
  let state: JsonValue | undefined;
  if (info.extra?.driver_state !== undefined) {
    try {
      state = JSON.parse(info.extra.driver_state);
    } catch {
      throw new Error(`"${path}": metadata driver_state is not valid JSON`);
    }
  }
  return { path, iteration: info.iteration ?? iteration, tensors, config: info.config, state };
}

/** For an unreadable checkpoint: which older one is intact, and how to use it (or that none is). */
async function intactHint(modelDir: string, older: readonly number[]): Promise<string> {
  for (const it of [...older].reverse()) {
    try {
      await readSafetensors(checkpointPath(modelDir, it));
      return `; the newest intact checkpoint is iteration ${it} ("${checkpointPath(modelDir, it)}"): use it with ` +
        `--starting_iter ${it} (training) or --inference_iter ${it} (inference), or delete the unreadable file`;
    } catch {
      // Damaged too: try the next older one.
    }
  }
  return older.length ? "; no older checkpoint is intact either" : "; there is no older checkpoint";
}

/** Deletes the oldest checkpoints (and their configs) so that at most `keep` remain; returns deleted iterations. */
export async function pruneCheckpoints(modelDir: string, keep: number): Promise<number[]> {
  const all = await listCheckpoints(modelDir);
  const old = all.slice(0, Math.max(0, all.length - keep));
  for (const it of old) {
    await Deno.remove(checkpointPath(modelDir, it));
    await Deno.remove(checkpointConfigPath(modelDir, it)).catch(() => {});
  }
  return old;
}
