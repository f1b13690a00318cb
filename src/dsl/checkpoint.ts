/**
 * Checkpoints, the one checkpoint concept: a VariableStore (plus optimizer slots) to and from a safetensors file
 * (`src/weights/`), with NiftyTS metadata; and restore-initializer rules read from a checkpoint file. The driver's
 * training checkpoints in `model_dir` (`src/engine/checkpoints.ts`) are these files under NiftyNet's names.
 *
 * @module
 */
import {
  type CheckpointInfo,
  checkpointMetadata,
  type NamedTensors,
  parseCheckpointMetadata,
  readSafetensors,
  writeSafetensors,
} from "../weights/mod.ts";
import type { RestoreRule, ScopeMapping } from "./restore.ts";
import type { VariableStore } from "./variable_store.ts";

/** What goes into a checkpoint besides the variables. */
export interface SaveCheckpointOptions {
  readonly iteration?: number;
  readonly network?: string;
  readonly config?: unknown;
  /** Optimizer state named `<variable path>/<Optimizer>/<slot>` (e.g. `ToyNet/conv_/w/Adam/m`). */
  readonly slots?: NamedTensors;
  /** More string metadata (e.g. the driver's `driver_state`). */
  readonly extra?: Readonly<Record<string, string>>;
}

/** Writes every variable of `store` (and optimizer slots) to `path` atomically. */
export async function saveCheckpoint(
  path: string,
  store: VariableStore,
  options: SaveCheckpointOptions = {},
): Promise<void> {
  const tensors = await store.toNamedTensors();
  for (const [name, t] of options.slots ?? []) {
    if (tensors.has(name)) throw new Error(`cannot save "${path}": optimizer slot "${name}" clashes with a variable`);
    tensors.set(name, t);
  }
  const metadata = checkpointMetadata({
    iteration: options.iteration,
    network: options.network,
    config: options.config,
    extra: options.extra,
  });
  await writeSafetensors(path, tensors, { metadata });
}

/** A checkpoint read back: its tensors (variables and slots) and structured metadata. */
export interface LoadedCheckpoint {
  readonly tensors: NamedTensors;
  readonly info: CheckpointInfo;
}

/** Reads a checkpoint file (refusing truncated or inconsistent files with a message naming it). */
export async function readCheckpoint(path: string): Promise<LoadedCheckpoint> {
  const { tensors, metadata } = await readSafetensors(path);
  return { tensors, info: parseCheckpointMetadata(metadata, { source: path }) };
}

/**
 * Resumes: assigns every variable of an already-built `store` from the checkpoint at `path` (all must be present
 * with their shapes) and returns the checkpoint, whose slots the optimizer can take.
 */
export async function loadCheckpoint(path: string, store: VariableStore): Promise<LoadedCheckpoint> {
  const loaded = await readCheckpoint(path);
  store.assignFrom(loaded.tensors, { sourceName: path });
  return loaded;
}

/**
 * A restore-initializer rule from a checkpoint or weight file: NiftyNet's `vars_to_restore` regex and scope
 * mappings (`from/` in the file → `to/` in the model).
 */
export async function restoreRuleFromFile(
  path: string,
  { include, mappings, missing }: {
    include?: RegExp;
    mappings?: readonly ScopeMapping[];
    missing?: "error" | "initialize";
  } = {},
): Promise<RestoreRule> {
  const { tensors } = await readCheckpoint(path);
  return { source: tensors, sourceName: path, include, mappings, missing };
}
