/**
 * The driver: owns the training and inference loops around an {@link Application}.
 *
 * Training: seeds, optimiser and learning-rate schedule from the config; `starting_iter` (0 fresh, n that
 * checkpoint, −1 the latest); `vars_to_restore` (+ `restore_scope_mapping`, `restore_from`): initialise the
 * matching variables from a checkpoint and train from iteration 0 (fine-tuning); `vars_to_freeze`; validation every
 * `validation_every_n` iterations over `validation_max_iter` batches (network in inference mode, so batch-norm
 * statistics are not disturbed); early stopping on the validation loss (`patience`, `early_stopping_mode`);
 * checkpoints every `save_every_n` and at the end, at most `max_checkpoints` kept; TensorBoard scalars every
 * `tensorboard_every_n` in `<model_dir>/logs/training` (and `…/validation`), the network graph once per run; a
 * progress line per iteration. SIGINT/SIGTERM: the current iteration finishes, a checkpoint is written, and
 * {@link train} returns with `stoppedBy: "signal"` and the signal's name (the CLI then exits with 130 or 143, the
 * shell's codes for those signals); a second signal exits at once with that code.
 *
 * Resuming is exact: the checkpoint holds the variables, the optimizer slots and the driver state (seed, batch
 * source positions, validation history), and the learning rate is a function of the iteration.
 *
 * Before any work, a config setting a key to a non-default value that neither the driver nor the application acts
 * on is refused (`Application.honouredKeys`, see `src/engine/honoured_keys.ts`).
 *
 * Weight decay: the loss is the data loss + the store's regularizers (set by layers) + `decay` applied by the
 * driver to every trainable kernel (`…/w`) that has no regularizer of its own: `reg_type` L2 adds decay·Σw²/2
 * (TensorFlow's l2_regularizer), L1 adds decay·Σ|w|.
 *
 * @module
 */
import { join } from "node:path";
import { tf } from "../deps.ts";
import { assertBackendAlive } from "../backend.ts";
import {
  type Application,
  applicationNames,
  type ApplicationRun,
  type Batch,
  type BatchSource,
  findApplication,
  getApplication,
  type JsonValue,
  type ModelContext,
  type Objective,
} from "./application.ts";
import { assertKeysActedOn } from "./honoured_keys.ts";
import { parseScopeMapping, recordGraph, restoreRuleFromFile, VariableStore } from "../dsl/mod.ts";
import type { NamedTensors } from "../weights/mod.ts";
import { EventWriter, graphDef, type ImagePixels, summarySlice } from "../viz/mod.ts";
import { type ConfigOverrides, configToJson, loadConfig, type NiftyConfig } from "./config/mod.ts";
import { createOptimizer, optimizerSlots, restoreOptimizerSlots, type SlotOptimizer } from "./optimizers.ts";
import { learningRateAt, type LearningRateSchedule } from "./schedules.ts";
import { shouldStopEarly } from "./early_stopping.ts";
import {
  checkpointPath,
  latestCheckpoint,
  listCheckpoints,
  pruneCheckpoints,
  readTrainingCheckpoint,
  writeTrainingCheckpoint,
} from "./checkpoints.ts";
import { deriveSeed } from "../data/batch_source.ts";
import { Progress } from "./progress.ts";
import { variableGrads } from "./variable_grads.ts";

/** Options shared by the driver's entry points. */
export interface DriverOptions {
  /** Receives progress lines and notes (default: `console.log`). */
  readonly log?: (line: string) => void;
  /** Install SIGINT/SIGTERM handlers during training (default true). */
  readonly handleSignals?: boolean;
}

/** Why training ended. */
export type StopReason = "max_iter" | "early_stopping" | "signal";

/** What {@link train} did. */
export interface TrainResult {
  /** Iterations completed (the last checkpoint's iteration). */
  readonly iteration: number;
  readonly stoppedBy: StopReason;
  /** The signal that stopped training (`stoppedBy: "signal"`). */
  readonly signal?: "SIGINT" | "SIGTERM";
  /** The last checkpoint written. */
  readonly checkpoint: string;
  /** Final values of every variable, by path. */
  readonly weights: NamedTensors;
  /** Mean validation loss of each validation round, oldest first. */
  readonly validationHistory: readonly number[];
  /** The seed used (drawn when `random_seed` is −1). */
  readonly seed: number;
}

/** The driver state saved in each checkpoint. */
interface DriverState {
  seed: number;
  training: JsonValue;
  validation: JsonValue;
  validationHistory: number[];
}

/** Trains `application` as `config` says. */
export async function train(config: NiftyConfig, application: Application, options: DriverOptions = {}): Promise<
  TrainResult
> {
  const log = options.log ?? ((line: string) => console.log(line));
  assertKeysActedOn(config, application);
  const t = config.training;
  const modelDir = config.system.model_dir;

  // Where we start from.
  let start = 0;
  let resumed: Awaited<ReturnType<typeof readTrainingCheckpoint>> | undefined;
  const fineTune = t.vars_to_restore !== "";
  if (t.starting_iter !== 0 && !fineTune) {
    const iteration = t.starting_iter === -1 ? await latestCheckpoint(modelDir) : t.starting_iter;
    if (iteration !== undefined) {
      resumed = await readTrainingCheckpoint(modelDir, iteration);
      start = resumed.iteration;
    }
  } else if (t.starting_iter === 0 && !fineTune) {
    const existing = await latestCheckpoint(modelDir);
    if (existing !== undefined) {
      throw new Error(
        `model_dir "${modelDir}" already holds checkpoints (latest: iteration ${existing}); set starting_iter = -1 ` +
          `to resume, or use another model_dir`,
      );
    }
  }
  const saved = resumed?.state as DriverState | undefined;
  const seed = config.system.random_seed >= 0
    ? config.system.random_seed
    : saved?.seed ?? Math.floor(Math.random() * 2 ** 31);
  if (resumed && saved && saved.seed !== seed) {
    log(`note: random_seed ${seed} differs from the checkpoint's ${saved.seed}; the resumed run will not repeat`);
  }

  const run = await application.setup(config, { action: "train", seed });
  const store = new VariableStore({ seed });
  const optimizer = createOptimizer(t.optimiser, t.lr);
  const schedule = scheduleOf(config);
  const sources: BatchSource[] = [];
  const writers: EventWriter[] = [];
  let stopSignal: "SIGINT" | "SIGTERM" | undefined;
  const onSignal = (name: "SIGINT" | "SIGTERM") => () => {
    if (stopSignal) {
      // A second signal means "now": checkpoint writes are atomic, so exiting mid-write loses nothing on disk.
      log(`${name} received again: exiting without a checkpoint`);
      Deno.exit(signalExitCode(name));
    }
    log(`${name} received: saving a checkpoint after this iteration (send it again to exit at once)`);
    stopSignal = name;
  };
  const signalHandlers: [Deno.Signal, () => void][] = options.handleSignals === false
    ? []
    : [["SIGINT", onSignal("SIGINT")], ["SIGTERM", onSignal("SIGTERM")]];
  for (const [sig, fn] of signalHandlers) Deno.addSignalListener(sig, fn);

  try {
    if (t.vars_to_freeze) store.freeze(new RegExp(t.vars_to_freeze));
    if (fineTune) {
      const from = t.restore_from || await fineTuneSource(modelDir, t.starting_iter);
      store.addRestoreRule(
        await restoreRuleFromFile(from, {
          include: new RegExp(t.vars_to_restore),
          mappings: t.restore_scope_mapping.map(parseScopeMapping),
        }),
      );
      log(`restoring variables matching /${t.vars_to_restore}/ from "${from}"`);
    }

    const training = await run.batches("training", {
      seed: deriveSeed(seed, "training"),
      state: saved?.training ?? undefined,
    });
    sources.push(training);
    const validating = t.validation_every_n > 0;
    const validation = validating
      ? await run.batches("validation", { seed: deriveSeed(seed, "validation"), state: saved?.validation ?? undefined })
      : undefined;
    if (validation) sources.push(validation);
    const validationHistory = [...(saved?.validationHistory ?? [])];

    // Create the variables (first application, inference mode, outside any gradient tape), then resume.
    let pending: Batch | undefined = start < t.max_iter ? await nextBatch(training, "training") : undefined;
    if (pending) {
      const batch = pending;
      for (const o of run.objectives) tf.tidy(() => void o.loss(batch, { store, training: false }));
    } else {
      // Nothing to train (max_iter reached): a throwaway source's first batch creates the variables, leaving the
      // saved position of the real source untouched.
      const probe = await run.batches("training", { seed: deriveSeed(seed, "training") });
      const batch = await nextBatch(probe, "training");
      try {
        for (const o of run.objectives) tf.tidy(() => void o.loss(batch, { store, training: false }));
      } finally {
        disposeBatch(batch);
        await probe.close?.();
      }
    }
    if (resumed) {
      store.assignFrom(resumed.tensors, { sourceName: resumed.path });
      const { variables } = await restoreOptimizerSlots(optimizer, store, resumed.tensors);
      log(`resumed from "${resumed.path}" (iteration ${start}; optimizer state of ${variables} variables)`);
    } else if (fineTune) {
      const report = store.restoreReport();
      log(`restored ${report.restored.length} variables, initialised ${report.initialized.length}`);
    }

    const trainWriter = await EventWriter.open(join(modelDir, "logs", "training"));
    writers.push(trainWriter);
    const validationWriter = validating ? await EventWriter.open(join(modelDir, "logs", "validation")) : undefined;
    if (validationWriter) writers.push(validationWriter);
    if (run.inputShapes) {
      try {
        trainWriter.graph(graphDef(recordGraph(run.network, run.inputShapes)));
      } catch (e) {
        log(`note: could not record the network graph: ${(e as Error).message}`);
      }
    }

    const configJson = configToJson({ ...config, system: { ...config.system, random_seed: seed } });
    let lastSaved = resumed ? start : -1;
    let lastPath = resumed?.path ?? "";
    const save = async (iteration: number) => {
      const state: DriverState = {
        seed,
        training: training.state(),
        validation: validation?.state() ?? null,
        validationHistory,
      };
      lastPath = await writeTrainingCheckpoint(modelDir, store, {
        iteration,
        network: run.networkName,
        config: configJson,
        slots: await optimizerSlots(optimizer, store),
        state: state as unknown as JsonValue,
      });
      lastSaved = iteration;
      await pruneCheckpoints(modelDir, t.max_checkpoints);
    };
    // NiftyNet's rule: max_iter = 0 saves the initial model.
    if (!resumed && t.max_iter === 0) await save(0);

    const progress = new Progress(t.max_iter, { first: start });
    let stoppedBy: StopReason = "max_iter";
    let iteration = start;
    let lastYield = performance.now();
    while (iteration < t.max_iter) {
      const batch = pending ?? await nextBatch(training, "training");
      pending = undefined;
      optimizer.learningRate = learningRateAt(iteration, schedule);
      const losses: Record<string, number> = {};
      const logging = t.tensorboard_every_n > 0 && (iteration + 1) % t.tensorboard_every_n === 0;
      let images: Map<string, ImagePixels> | undefined;
      const lossTensors: [string, tf.Scalar][] = [];
      try {
        for (const objective of run.objectives) {
          lossTensors.push([objective.name, optimiseStep(objective, batch, { store, optimizer, config })]);
        }
        if (logging) images = await summaryImages(run, batch, store);
        // Asynchronous reads only: a GPU backend cannot (webgpu under Deno) or should not read back synchronously.
        for (const [name, t] of lossTensors) losses[name] = (await t.data())[0];
      } catch (e) {
        assertBackendAlive(); // a lost GPU device explains the failure better than the error it caused
        throw e;
      } finally {
        tf.dispose(lossTensors.map(([, t]) => t));
        disposeBatch(batch);
      }
      assertBackendAlive();
      iteration++;
      for (const [name, v] of Object.entries(losses)) {
        if (!Number.isFinite(v)) throw new Error(`iteration ${iteration}: ${name} is ${v}; training diverged`);
      }
      log(progress.line(iteration, losses));
      if (t.tensorboard_every_n > 0 && iteration % t.tensorboard_every_n === 0) {
        for (const [name, v] of Object.entries(losses)) trainWriter.scalar(name, v, iteration);
        trainWriter.scalar("lr", optimizer.learningRate, iteration);
        for (const [name, pixels] of images ?? []) trainWriter.image(name, pixels, iteration);
        await trainWriter.flush();
      }
      if (validation && iteration % t.validation_every_n === 0) {
        const values = await validate(run.objectives, validation, t.validation_max_iter, store);
        const first = run.objectives[0].name;
        validationHistory.push(values[first]);
        log(`validation at ${iteration}: ${Object.entries(values).map(([k, v]) => `${k} ${v.toFixed(4)}`).join("  ")}`);
        for (const [name, v] of Object.entries(values)) validationWriter!.scalar(name, v, iteration);
        await validationWriter!.flush();
        if (shouldStopEarly(validationHistory, { patience: t.patience, mode: t.early_stopping_mode })) {
          stoppedBy = "early_stopping";
        }
      }
      if (t.save_every_n > 0 && iteration % t.save_every_n === 0) await save(iteration);
      // Awaiting settled promises never reaches the event loop, where signals are delivered: let it run now and
      // then (a timer task), at most every 50 ms so that fast loops stay fast.
      if (performance.now() - lastYield > 50) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        lastYield = performance.now();
      }
      if (stopSignal) stoppedBy = "signal";
      if (stoppedBy !== "max_iter") break;
    }
    if (pending) disposeBatch(pending);
    if (lastSaved !== iteration) await save(iteration);
    log(`training stopped at iteration ${iteration} (${stoppedBy}); checkpoint "${lastPath}"`);
    return {
      iteration,
      stoppedBy,
      ...(stoppedBy === "signal" ? { signal: stopSignal } : {}),
      checkpoint: lastPath,
      weights: await store.toNamedTensors(),
      validationHistory,
      seed,
    };
  } finally {
    for (const [sig, fn] of signalHandlers) Deno.removeSignalListener(sig, fn);
    for (const w of writers) await w.close().catch(() => {});
    for (const s of sources) await s.close?.();
    run.dispose?.();
    optimizer.dispose();
    store.dispose();
  }
}

/** The exit status a shell gives a process killed by `signal` (128 + its number): 130 for SIGINT, 143 for SIGTERM. */
export function signalExitCode(signal: "SIGINT" | "SIGTERM"): number {
  return signal === "SIGINT" ? 130 : 143;
}

function scheduleOf(config: NiftyConfig): LearningRateSchedule {
  const t = config.training;
  switch (t.lr_schedule) {
    case "step":
      return { kind: "step", lr: t.lr, every: t.lr_decay_every, factor: t.lr_decay_factor };
    case "poly":
      return { kind: "poly", lr: t.lr, maxIter: t.max_iter, power: t.lr_poly_power };
    default:
      return { kind: "constant", lr: t.lr };
  }
}

async function fineTuneSource(modelDir: string, startingIter: number): Promise<string> {
  const iteration = startingIter <= 0 ? await latestCheckpoint(modelDir) : startingIter;
  if (iteration === undefined) {
    throw new Error(`vars_to_restore is set but "${modelDir}" has no checkpoint; set restore_from`);
  }
  if (!(await listCheckpoints(modelDir)).includes(iteration)) {
    throw new Error(`vars_to_restore: no checkpoint for iteration ${iteration} in "${modelDir}"`);
  }
  return checkpointPath(modelDir, iteration);
}

async function nextBatch(source: BatchSource, phase: string): Promise<Batch> {
  const batch = await source.next();
  if (!batch) throw new Error(`the ${phase} batch source ended; training sources must be endless`);
  return batch;
}

/** Middle-slice pictures of the batch tensors and of the application's summary tensors (e.g. the prediction). */
async function summaryImages(
  run: ApplicationRun,
  batch: Batch,
  store: VariableStore,
): Promise<Map<string, ImagePixels>> {
  const out = new Map<string, ImagePixels>();
  const extra = tf.tidy(() => run.summaryImages?.(batch, { store, training: false }) ?? {});
  try {
    const tensors: [string, tf.Tensor][] = [...Object.entries(batch.tensors), ...Object.entries(extra)];
    for (const [name, t] of tensors) {
      if (t.rank === 4 || t.rank === 5) out.set(name, await summarySlice(t));
    }
  } finally {
    tf.dispose(Object.values(extra));
  }
  return out;
}

function disposeBatch(batch: Batch): void {
  tf.dispose(Object.values(batch.tensors));
}

/** The variables an objective updates: trainable (not frozen) and matching its filter. */
function objectiveVariables(objective: Objective, store: VariableStore): tf.Variable[] {
  const vars = store.records().filter((r) => r.trainable && (!objective.variables || objective.variables.test(r.path)))
    .map((r) => r.variable);
  if (vars.length === 0) throw new Error(`objective "${objective.name}" has no trainable variables to optimise`);
  return vars;
}

/** The config's `decay` on kernels without their own regularizer (see the module doc). */
function decayTerm(store: VariableStore, config: NiftyConfig): tf.Scalar {
  const { decay, reg_type } = config.network;
  return tf.tidy(() => {
    let total: tf.Scalar = store.regularizationLoss();
    if (decay > 0) {
      for (const r of store.records()) {
        if (!r.trainable || r.regularizer || !r.path.endsWith("/w")) continue;
        const term = reg_type === "L1"
          ? tf.mul(decay, tf.sum(tf.abs(r.variable)))
          : tf.mul(decay / 2, tf.sum(tf.square(r.variable)));
        total = tf.add(total, term);
      }
    }
    return total;
  });
}

/** One gradient step of one objective; returns its data loss as a scalar tensor (the caller reads and disposes it). */
function optimiseStep(
  objective: Objective,
  batch: Batch,
  { store, optimizer, config }: { store: VariableStore; optimizer: SlotOptimizer; config: NiftyConfig },
): tf.Scalar {
  const vars = objectiveVariables(objective, store);
  return tf.tidy(() => {
    let data: tf.Scalar | undefined;
    const { grads } = variableGrads(() => {
      const loss = objective.loss(batch, { store, training: true });
      data = tf.keep(tf.clone(loss));
      return tf.add(loss, decayTerm(store, config)) as tf.Scalar;
    }, vars);
    optimizer.applyGradients(grads);
    return data!;
  });
}

async function validate(
  objectives: readonly Objective[],
  source: BatchSource,
  batches: number,
  store: VariableStore,
): Promise<Record<string, number>> {
  const sums: Record<string, number> = {};
  let n = 0;
  const model: ModelContext = { store, training: false };
  for (; n < batches; n++) {
    const batch = await source.next();
    if (!batch) break;
    try {
      for (const o of objectives) {
        const loss = tf.tidy(() => o.loss(batch, model));
        try {
          sums[o.name] = (sums[o.name] ?? 0) + (await loss.data())[0];
        } finally {
          loss.dispose();
        }
      }
    } finally {
      disposeBatch(batch);
    }
  }
  if (n === 0) throw new Error("the validation batch source gave no batch");
  return Object.fromEntries(Object.entries(sums).map(([k, v]) => [k, v / n]));
}

/** What {@link infer} did. */
export interface InferResult {
  /** The checkpoint whose weights were used. */
  readonly checkpoint: string;
  readonly batches: number;
}

/** Runs inference: batches from the application's inference sampler, the network, the application's aggregator. */
export async function infer(config: NiftyConfig, application: Application, options: DriverOptions = {}): Promise<
  InferResult
> {
  const log = options.log ?? ((line: string) => console.log(line));
  assertKeysActedOn(config, application);
  const modelDir = config.system.model_dir;
  const iteration = config.inference.inference_iter === -1
    ? await latestCheckpoint(modelDir)
    : config.inference.inference_iter;
  if (iteration === undefined) throw new Error(`no checkpoint in "${join(modelDir, "models")}": train first`);
  const checkpoint = await readTrainingCheckpoint(modelDir, iteration);
  const seed = Math.max(0, config.system.random_seed);
  const run = await application.setup(config, { action: "infer", seed });
  const store = new VariableStore({ seed });
  let source: BatchSource | undefined;
  try {
    source = await run.inferenceBatches({ seed: deriveSeed(seed, "inference") });
    const model: ModelContext = { store, training: false };
    let count = 0;
    for (let batch = await source.next(); batch; batch = await source.next()) {
      try {
        assertBackendAlive();
        const outputs = tf.tidy(() => run.infer(batch!, model));
        if (count === 0) {
          // The first application created the variables: load the weights and run the batch again.
          tf.dispose(Object.values(outputs));
          store.assignFrom(checkpoint.tensors, { sourceName: checkpoint.path });
          log(`inference with "${checkpoint.path}"`);
        }
        const final = count === 0 ? tf.tidy(() => run.infer(batch!, model)) : outputs;
        const host: Record<string, { data: Float32Array; shape: number[] }> = {};
        try {
          for (const [name, t] of Object.entries(final)) {
            host[name] = { data: Float32Array.from(await t.data() as ArrayLike<number>), shape: [...t.shape] };
          }
        } finally {
          tf.dispose(Object.values(final));
        }
        await run.consume(batch, host);
      } finally {
        disposeBatch(batch);
      }
      count++;
    }
    await run.finishInference?.();
    log(`inference done: ${count} batches`);
    return { checkpoint: checkpoint.path, batches: count };
  } finally {
    await source?.close?.();
    run.dispose?.();
    store.dispose();
  }
}

/** The result of {@link runAction}, by action. */
export type ActionResult =
  | { readonly action: "train"; readonly config: NiftyConfig; readonly result: TrainResult }
  | { readonly action: "infer"; readonly config: NiftyConfig; readonly result: InferResult }
  | { readonly action: "evaluate"; readonly config: NiftyConfig };

/**
 * Loads the config at `configPath` with `overrides` and runs `action` with the application named by `options.application`
 * (an {@link Application}, or a registered name/alias such as `segmentation` or `net_segment`) or, when absent, by
 * the config's application section. The CLI calls this.
 *
 * @example
 * ```ts
 * import { runAction } from "./driver.ts";
 * await runAction("train", "config.ini", ["--max_iter", "100"], { application: "segmentation" });
 * ```
 */
export async function runAction(
  action: "train" | "infer" | "evaluate",
  configPath: string,
  overrides: ConfigOverrides = [],
  options: DriverOptions & { readonly application?: Application | string } = {},
): Promise<ActionResult> {
  const given = options.application;
  const named = typeof given === "string" ? getApplication(given) : given;
  const config = await loadConfig(configPath, { overrides, application: named?.section });
  for (const w of config.warnings) (options.log ?? console.warn)(`warning: ${w}`);
  let app = named;
  if (!app) {
    const name = config.application?.section;
    if (!name) {
      throw new Error(`"${configPath}" has no application section; add one (e.g. [SEGMENTATION]) or pass -a`);
    }
    app = findApplication(name);
    if (!app) {
      throw new Error(
        `no application registered for [${name}] (registered: ${applicationNames().join(", ") || "none"})`,
      );
    }
  }
  if (action === "train") return { action, config, result: await train(config, app, options) };
  if (action === "infer") return { action, config, result: await infer(config, app, options) };
  assertKeysActedOn(config, app);
  const run = await app.setup(config, { action: "evaluate", seed: Math.max(0, config.system.random_seed) });
  try {
    if (!run.evaluate) throw new Error(`application "${app.name}" has no evaluation`);
    await run.evaluate();
  } finally {
    run.dispose?.();
  }
  return { action, config };
}
