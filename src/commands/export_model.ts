/**
 * `cli.ts export CHECKPOINT --network NAME [--format tfjs|onnx] --out DIR`: a trained (or imported) checkpoint as a
 * deployable model (a tfjs layers-model folder, or `DIR/model.onnx`). The network is rebuilt from `--network` (else the checkpoint's `network` metadata), the
 * config (`-c config.ini`, else the one saved in the checkpoint: activation, initializers, `num_classes`) and
 * `--network-options` JSON; `numClasses` left unknown is read off the checkpoint (the variables whose shape
 * follows it). Every variable must come from the checkpoint.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { applyNetwork, readCheckpoint, VariableStore } from "../dsl/mod.ts";
import { configFromJson, loadConfig, type NiftyConfig } from "../engine/config/mod.ts";
import { exportNetwork, parseExportFormat } from "../export/mod.ts";
import type { NamedTensors } from "../weights/mod.ts";
import { getNetwork, type NetworkFactory, resolveNetwork } from "../../networks/mod.ts";
import type { NetworkOptions } from "../../networks/base.ts";
import { isModuleReference } from "../util/plugin.ts";

/** Options of {@link exportCommand}. */
export interface ExportCommandOptions {
  readonly out: string;
  readonly format?: string;
  /** Registered network name or module (default: the checkpoint's `network` metadata, else the config's). */
  readonly network?: string;
  /** A config file whose [NETWORK] and application section describe the network. */
  readonly config?: string;
  /** Network constructor options as JSON, e.g. `{"channels":5}`. */
  readonly networkOptions?: string;
  readonly numClasses?: number;
  /** Shape to trace the network on, batch first, channels last (default 1,16,16,16,1 or 1,16,16,1). */
  readonly inputShape?: readonly number[];
}

function parseJsonObject(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch { /* reported below */ }
  throw new Error(`--network-options must be a JSON object, got ${text}`);
}

function variableShapes(factory: NetworkFactory, options: NetworkOptions, shape: readonly number[]) {
  const store = new VariableStore();
  try {
    tf.tidy(() => {
      applyNetwork(factory(options), [tf.zeros([...shape])], { store });
    });
    return new Map(store.records().map((r) => [r.path, r.shape]));
  } finally {
    store.dispose();
  }
}

/** `numClasses` read off the checkpoint: the last axis of a variable whose shape changes with it. */
function inferNumClasses(
  factory: NetworkFactory,
  options: NetworkOptions,
  tensors: NamedTensors,
  shape: readonly number[],
): number {
  const one = variableShapes(factory, { ...options, numClasses: 1 }, shape);
  const two = variableShapes(factory, { ...options, numClasses: 2 }, shape);
  for (const [path, s1] of one) {
    const s2 = two.get(path);
    const saved = tensors.get(path);
    if (s2 && saved && s1.at(-1) === 1 && s2.at(-1) === 2) return saved.shape.at(-1)!;
  }
  throw new Error("cannot tell the number of classes from the checkpoint: give --num-classes");
}

async function networkConfig(options: ExportCommandOptions, saved: unknown, checkpoint: string) {
  if (options.config) return await loadConfig(options.config);
  if (saved === undefined) return undefined;
  return configFromJson(saved, { source: `${checkpoint} (saved config)` });
}

function configNumClasses(config: NiftyConfig | undefined): number | undefined {
  const values = config?.application?.values as { num_classes?: number } | undefined;
  return values?.num_classes !== undefined && values.num_classes > 0 ? values.num_classes : undefined;
}

/** Rebuilds the checkpoint's network, exports it and returns the lines to print. */
export async function exportCommand(checkpoint: string, options: ExportCommandOptions): Promise<string[]> {
  const format = parseExportFormat(options.format ?? "tfjs");
  const { tensors, info } = await readCheckpoint(checkpoint);
  const config = await networkConfig(options, info.config, checkpoint);
  const name = options.network ?? (config?.network.name || undefined) ?? info.network;
  if (!name) throw new Error(`export: "${checkpoint}" names no network; give --network NAME`);
  const factory = await resolveNetwork(name, { baseDir: config?.configDir });
  const rank = isModuleReference(name) ? 5 : Math.max(...getNetwork(name).inputRanks);
  const traceShape = options.inputShape ?? (rank === 4 ? [1, 16, 16, 1] : [1, 16, 16, 16, 1]);
  const base: NetworkOptions = {
    numClasses: 1,
    ...(config ? { actiFunc: config.network.activation_function as NetworkOptions["actiFunc"] } : {}),
    ...(options.networkOptions ? parseJsonObject(options.networkOptions) : {}),
  };
  const numClasses = options.numClasses ?? configNumClasses(config) ??
    (base.numClasses !== 1 ? base.numClasses : inferNumClasses(factory, base, tensors, traceShape));
  const network = factory({ ...base, numClasses });
  const store = new VariableStore({ restore: [{ source: tensors, sourceName: checkpoint, include: /./ }] });
  try {
    tf.tidy(() => {
      applyNetwork(network, [tf.zeros([...traceShape])], { store });
    });
    const missing = store.restoreReport().initialized;
    if (missing.length > 0) {
      throw new Error(
        `export: "${checkpoint}" has no value for ${missing.length} variables of ${name} (${
          missing.slice(0, 3).join(", ")
        }${missing.length > 3 ? ", …" : ""})`,
      );
    }
    const result = await exportNetwork(network, store, { format, out: options.out, traceShape });
    const layers = Object.entries(result.layerCounts).map(([k, n]) => `${n} ${k}`).join(", ");
    return [
      `exported ${name} (${numClasses} classes) from ${checkpoint} as ${format}: ${layers}; ${result.parameters} parameters`,
      ...result.files.map((f) => `wrote ${f}`),
    ];
  } finally {
    store.dispose();
  }
}
