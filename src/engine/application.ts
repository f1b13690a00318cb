/**
 * The `Application` contract and the registry of applications. The contract between the driver (`src/engine/driver.ts`, which owns the loops, checkpoints, logging and
 * signals) and an application (segmentation, regression, …, which owns what varies: input roles, samplers per
 * phase, the network, the loss and what happens to outputs).
 *
 * Reproducibility contract: a {@link BatchSource} is created from a seed and, when resuming, from the state it
 * reported at the checkpoint; it must then yield exactly the batches an uninterrupted source would have yielded
 * next. `epochSource` in `src/data/batch_source.ts` gives that for any source that can rebuild one epoch from
 * (seed, epoch number).
 *
 * @module
 */
import type { tf } from "../deps.ts";
import type { Layer, VariableStore } from "../dsl/mod.ts";
import type { Batch, BatchSource, JsonValue } from "../data/batch_source.ts";
import type { NiftyConfig } from "./config/mod.ts";
import type { HonouredKeys } from "./honoured_keys.ts";
import { unknownNameMessage } from "../util/suggest.ts";

export type { Batch, BatchSource, JsonValue };

/** The phases the driver asks batches for. */
export type TrainingPhase = "training" | "validation";

/** How the network is run: its variables and whether it is in training mode. */
export interface ModelContext {
  readonly store: VariableStore;
  readonly training: boolean;
}

/**
 * One quantity to minimise, over a subset of the trainable variables. Most applications have one; a GAN has a
 * discriminator and a generator objective, applied in order each iteration.
 */
export interface Objective {
  /** Logged as `<name>` (TensorBoard, progress line); e.g. `loss`, `d_loss`. */
  readonly name: string;
  /** Only trainable variables whose path matches are updated by this objective (default: all). */
  readonly variables?: RegExp;
  /**
   * The data loss of a batch (without weight decay: the driver adds the store's regularizers and the config's
   * `decay`). Called inside the gradient tape; apply the network with `applyNetwork(net, inputs, model)`.
   */
  loss(batch: Batch, model: ModelContext): tf.Scalar;
}

/** Host copies of inference outputs by name, with their shapes (batch first). */
export type HostOutputs = Readonly<Record<string, { readonly data: Float32Array; readonly shape: readonly number[] }>>;

/** What an application sets up for one run, given the effective config. */
export interface ApplicationRun {
  /** The network; its scope name prefixes every variable path. */
  readonly network: Layer<tf.Tensor[], unknown>;
  /** Registered name (or module path) of the network, saved in checkpoint metadata. */
  readonly networkName: string;
  /** Shapes of the network inputs for recording the graph once (batch first), when known. */
  readonly inputShapes?: readonly (readonly number[])[];
  /** The objectives minimised each training iteration, in order. */
  readonly objectives: readonly Objective[];
  /** Training or validation batches; `state` is given when resuming. */
  batches(phase: TrainingPhase, options: { seed: number; state?: JsonValue }): Promise<BatchSource>;
  /**
   * Tensors `[batch, …spatial, channels]` drawn as TensorBoard image slices every `tensorboard_every_n` iterations,
   * beside the batch's own tensors (e.g. `prediction`). Called in inference mode inside `tf.tidy`.
   */
  summaryImages?(batch: Batch, model: ModelContext): Readonly<Record<string, tf.Tensor>>;
  /** Inference batches (windows in order, ending when every subject is covered). */
  inferenceBatches(options: { seed: number }): Promise<BatchSource>;
  /** Runs the network on an inference batch (inside `tf.tidy`); returns the tensors to hand to {@link consume}. */
  infer(batch: Batch, model: ModelContext): Readonly<Record<string, tf.Tensor>>;
  /** Takes one batch's outputs (host copies): feed the aggregator, write finished subjects. */
  consume(batch: Batch, outputs: HostOutputs): Promise<void>;
  /** After the last inference batch: flush the aggregator, write remaining outputs. */
  finishInference?(): Promise<void>;
  /** Evaluation action (`evaluate`): compare outputs with references and write CSV. */
  evaluate?(): Promise<void>;
  /** Frees what the run holds (not the store: the driver owns it). */
  dispose?(): void;
}

/** An application: a name, its config section and input roles, and a way to set up a run. */
export interface Application {
  /** NiftyNet name, e.g. `segmentation`. */
  readonly name: string;
  /** The config section it reads, e.g. `SEGMENTATION`. */
  readonly section: string;
  /**
   * Other names it answers to: NiftyNet's command (`net_segment`) and the short CLI command (`segment`). The CLI
   * offers a command for the name and each alias.
   */
  readonly aliases?: readonly string[];
  /** Input roles the section may name (`image`, `label`, `weight`, `sampler`, `inferred`). */
  readonly inputRoles: readonly string[];
  /**
   * Every config key it acts on, beyond the driver's: the driver refuses a config that sets any other key to a
   * non-default value (`assertKeysActedOn`). Absent (plugins): not checked.
   */
  readonly honouredKeys?: HonouredKeys;
  /** Builds the network, samplers and outputs for `action`. */
  setup(
    config: NiftyConfig,
    context: { readonly action: "train" | "infer" | "evaluate"; readonly seed: number },
  ): Promise<ApplicationRun>;
}

const registry = new Map<string, Application>();
const registered: Application[] = [];

/**
 * Registers an application under its name (`segmentation`), its section (`SEGMENTATION`) and its aliases
 * (`net_segment`, `segment`); names are case-insensitive. Each application module registers itself; the engine
 * never imports one. Registering an application again under the same name replaces it.
 */
export function registerApplication(app: Application): void {
  const index = registered.findIndex((a) => a.name === app.name);
  if (index >= 0) registered[index] = app;
  else registered.push(app);
  for (const name of [app.name, app.section, ...(app.aliases ?? [])]) registry.set(name.toLowerCase(), app);
}

/** The application registered under a name, section or alias (case-insensitive), or undefined. */
export function findApplication(name: string): Application | undefined {
  return registry.get(name.toLowerCase());
}

/**
 * The application registered under a name, section or alias, or an error with a "did you mean" suggestion.
 *
 * @example
 * ```ts
 * import { getApplication } from "./application.ts";
 * getApplication("net_segment").section; // "SEGMENTATION", once src/applications/mod.ts is imported
 * ```
 */
export function getApplication(name: string): Application {
  const app = findApplication(name);
  if (!app) {
    const names = registered.flatMap((a) => [a.name, ...(a.aliases ?? [])]);
    throw new Error(unknownNameMessage("application", name, names.length ? names : ["none registered"]));
  }
  return app;
}

/** Names of the registered applications, sorted. */
export function applicationNames(): string[] {
  return registered.map((a) => a.name).sort();
}

/** The registered applications, in registration order. */
export function registeredApplications(): readonly Application[] {
  return [...registered];
}
