/**
 * Importer for TensorFlow.js layers models (`model.json` + binary weight shards, as written by the tfjs converter
 * from Keras or by tfjs `model.save`), e.g. brainchop's MeshNet. Host-only: weights come back as named typed arrays
 * keyed by their manifest names (`21/kernel`, `output/bias`), with a plain summary of the Keras topology.
 *
 * Weight layouts are Keras's, which are also tfjs's and the NiftyTS DSL's: Conv kernels are
 * `[k_d, k_h, k_w, in, out]` (3D) / `[k_h, k_w, in, out]` (2D), Dense kernels `[in, out]`, biases `[out]`.
 * Mapping Keras layer names onto DSL variable paths is left to the caller (see `renameTensors`).
 *
 * Decoding follows tfjs-core's `io.decodeWeights`: the shards of one manifest group are concatenated in order and
 * the group's weights read back to back from it; quantized weights are `q · scale + min` (uint8/uint16, rounded for
 * int32 weights) or IEEE half floats (float16), dequantized to float32.
 *
 * @module
 */
import { fromLittleEndian, halfToNumber, ITEM_SIZE } from "./_bytes.ts";
import { CheckpointError } from "./errors.ts";
import { type NamedTensors, sizeOf } from "./named_tensors.ts";

/** Weight dtypes of a tfjs manifest that we read (tfjs's `string` and `complex64` are refused). */
export type TfjsWeightDType = "float32" | "int32" | "bool";

/** tfjs weight quantization: stored as `dtype`, dequantized with `q · scale + min` (uint8/uint16) or as half floats. */
export interface TfjsQuantization {
  readonly dtype: "uint8" | "uint16" | "float16";
  readonly scale?: number;
  readonly min?: number;
}

/** One entry of `weightsManifest[].weights`. */
export interface TfjsWeightSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly dtype: TfjsWeightDType;
  readonly quantization?: TfjsQuantization;
}

/** One `weightsManifest` group: its shard files (relative to model.json) and the weights packed into them. */
export interface TfjsWeightGroup {
  readonly paths: readonly string[];
  readonly weights: readonly TfjsWeightSpec[];
}

/** One Keras layer of the topology. */
export interface TfjsLayerSummary {
  /** Keras class, e.g. `Conv3D`, `Activation`, `InputLayer`. */
  readonly className: string;
  /** Keras layer name; its weights are named `<name>/<weight>` in the manifest. */
  readonly name: string;
  /** The layer's Keras config without initializers, regularizers and constraints (irrelevant once weights load). */
  readonly config: Readonly<Record<string, unknown>>;
  /** Names of the layers feeding this one, in order (functional models; the previous layer for Sequential). */
  readonly inbound: readonly string[];
  /** Manifest names of this layer's weights, in manifest order. */
  readonly weightNames: readonly string[];
}

/** The Keras topology in brief; `raw` keeps the complete `modelTopology` for anything not summarised. */
export interface TfjsTopology {
  /** `Functional`, `Model` or `Sequential`. */
  readonly className: string;
  readonly name?: string;
  readonly kerasVersion?: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly layers: readonly TfjsLayerSummary[];
  readonly raw: unknown;
}

/** A tfjs layers model read from disk. */
export interface TfjsLayersModel {
  readonly format?: string;
  readonly generatedBy?: string;
  readonly convertedBy?: string;
  readonly topology: TfjsTopology;
  /** Weights keyed by manifest name, in manifest order; quantized weights come back dequantized. */
  readonly weights: NamedTensors;
}

const QUANTIZED_SIZE = { uint8: 1, uint16: 2, float16: 2 } as const;
const STRIPPED_CONFIG = /_(initializer|regularizer|constraint)$/;

type Fail = (problem: string) => CheckpointError;

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function isShape(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((d) => Number.isSafeInteger(d) && d >= 0);
}

function parseSpec(value: unknown, where: string, fail: Fail): TfjsWeightSpec {
  if (!isPlainObject(value)) throw fail(`${where} is not an object`);
  const { name, shape, dtype, quantization } = value;
  if (typeof name !== "string" || name === "") throw fail(`${where} has no name`);
  if (!isShape(shape)) {
    throw fail(`weight "${name}" has shape ${JSON.stringify(shape)}, expected non-negative integers`);
  }
  if (dtype !== "float32" && dtype !== "int32" && dtype !== "bool") {
    throw fail(`weight "${name}" has dtype ${JSON.stringify(dtype)} (supported: float32, int32, bool)`);
  }
  if (quantization === undefined) return { name, shape, dtype };
  if (!isPlainObject(quantization)) throw fail(`weight "${name}" has a quantization that is not an object`);
  const q = quantization.dtype;
  if (q === "uint8" || q === "uint16") {
    const { scale, min } = quantization;
    if (typeof scale !== "number" || typeof min !== "number") {
      throw fail(`weight "${name}" is quantized to ${q} but lacks a numeric scale and min`);
    }
    if (dtype === "bool") throw fail(`weight "${name}" is a bool weight quantized to ${q}, which tfjs does not define`);
    return { name, shape, dtype, quantization: { dtype: q, scale, min } };
  }
  if (q === "float16") {
    if (dtype !== "float32") throw fail(`weight "${name}" is quantized to float16 but has dtype ${dtype}`);
    return { name, shape, dtype, quantization: { dtype: q } };
  }
  throw fail(`weight "${name}" has quantization dtype ${JSON.stringify(q)} (supported: uint8, uint16, float16)`);
}

function parseManifest(value: unknown, fail: Fail): TfjsWeightGroup[] {
  if (!Array.isArray(value)) throw fail("weightsManifest is not an array");
  const seen = new Set<string>();
  return value.map((group, g) => {
    if (!isPlainObject(group)) throw fail(`weightsManifest[${g}] is not an object`);
    const { paths, weights } = group;
    if (!Array.isArray(paths) || !paths.every((p) => typeof p === "string")) {
      throw fail(`weightsManifest[${g}].paths is not a list of file names`);
    }
    if (!Array.isArray(weights)) throw fail(`weightsManifest[${g}].weights is not a list`);
    const specs = weights.map((w, i) => parseSpec(w, `weightsManifest[${g}].weights[${i}]`, fail));
    for (const { name } of specs) {
      if (seen.has(name)) throw fail(`weight "${name}" appears twice in weightsManifest`);
      seen.add(name);
    }
    return { paths, weights: specs };
  });
}

function byteLength(spec: TfjsWeightSpec): number {
  const perValue = spec.quantization ? QUANTIZED_SIZE[spec.quantization.dtype] : ITEM_SIZE[spec.dtype];
  return sizeOf(spec.shape) * perValue;
}

function dequantize(spec: TfjsWeightSpec, bytes: Uint8Array): Float32Array | Int32Array {
  const q = spec.quantization!;
  const stored = fromLittleEndian(bytes, q.dtype === "uint8" ? "uint8" : "uint16");
  if (q.dtype === "float16") return Float32Array.from(stored, halfToNumber);
  const scale = q.scale!, min = q.min!;
  // As tfjs: the affine map in double precision, then stored (rounded to nearest for int32 weights).
  if (spec.dtype === "int32") return Int32Array.from(stored, (v) => Math.round(v * scale + min));
  return Float32Array.from(stored, (v) => v * scale + min);
}

/**
 * Decodes the weights of a tfjs `weightsManifest` given, for each group, the concatenation of its shard files.
 * Refuses a malformed manifest and a group whose bytes are fewer or more than its weights need.
 *
 * @example
 * ```ts
 * import { decodeTfjsWeights } from "./tfjs_layers.ts";
 * const manifest = [{ paths: ["w.bin"], weights: [{ name: "d/bias", shape: [2], dtype: "float32" }] }];
 * const bytes = new Uint8Array(new Float32Array([0.5, -1]).buffer);
 * const weights = decodeTfjsWeights(manifest, [bytes], { source: "model.json" }); // d/bias → [0.5, -1]
 * ```
 */
export function decodeTfjsWeights(
  manifest: unknown,
  groupBytes: readonly Uint8Array[],
  { source = "tfjs weights" }: { source?: string } = {},
): NamedTensors {
  const fail: Fail = (problem) => new CheckpointError(source, problem);
  const groups = parseManifest(manifest, fail);
  if (groupBytes.length !== groups.length) {
    throw fail(`weightsManifest has ${groups.length} groups but ${groupBytes.length} byte buffers were given`);
  }
  const weights: NamedTensors = new Map();
  groups.forEach((group, g) => {
    const bytes = groupBytes[g];
    const need = group.weights.reduce((sum, spec) => sum + byteLength(spec), 0);
    if (bytes.length !== need) {
      const difference = bytes.length < need ? `${need - bytes.length} missing` : `${bytes.length - need} extra`;
      throw fail(
        `weightsManifest[${g}] shards (${
          group.paths.join(", ")
        }) hold ${bytes.length} bytes but its ${group.weights.length} weights need ${need} (${difference})`,
      );
    }
    let offset = 0;
    for (const spec of group.weights) {
      const length = byteLength(spec);
      const slice = bytes.subarray(offset, offset + length);
      offset += length;
      const data = spec.quantization ? dequantize(spec, slice) : fromLittleEndian(slice, spec.dtype);
      weights.set(spec.name, { dtype: spec.dtype, shape: spec.shape, data });
    }
  });
  return weights;
}

/** Names of the layers a Keras 2 `inbound_nodes` list refers to (`[[["name", node, tensor, kwargs], …], …]`). */
function inboundNames(inboundNodes: unknown): string[] {
  const names: string[] = [];
  if (!Array.isArray(inboundNodes)) return names;
  for (const node of inboundNodes) {
    if (!Array.isArray(node)) continue;
    for (const ref of node) {
      if (Array.isArray(ref) && typeof ref[0] === "string" && !names.includes(ref[0])) names.push(ref[0]);
    }
  }
  return names;
}

/** Layer names of `input_layers` / `output_layers` (`[["name", 0, 0], …]`). */
function endpointNames(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.filter((ref) => Array.isArray(ref) && typeof ref[0] === "string").map((ref) => ref[0] as string);
}

/**
 * Summarises a tfjs/Keras `modelTopology` (Functional, Model or Sequential) and attributes each weight name
 * `<layer>/<weight>` to its layer.
 *
 * @example
 * ```ts
 * import { summarizeTfjsTopology } from "./tfjs_layers.ts";
 * const model = JSON.parse(await Deno.readTextFile("model.json"));
 * const topology = summarizeTfjsTopology(model.modelTopology, ["21/kernel", "21/bias"]);
 * console.log(topology.layers.map((l) => `${l.className} ${l.name}`));
 * ```
 */
export function summarizeTfjsTopology(
  modelTopology: unknown,
  weightNames: readonly string[],
  { source = "tfjs model" }: { source?: string } = {},
): TfjsTopology {
  const fail: Fail = (problem) => new CheckpointError(source, problem);
  if (!isPlainObject(modelTopology)) throw fail("modelTopology is not an object");
  // Converted Keras models wrap the model in `model_config`; tfjs `model.save` writes it directly.
  const model = isPlainObject(modelTopology.model_config) ? modelTopology.model_config : modelTopology;
  const className = model.class_name;
  if (typeof className !== "string") throw fail("modelTopology has no model class_name");
  const config = model.config;
  // Old Sequential configs are the bare list of layers.
  const rawLayers = Array.isArray(config) ? config : isPlainObject(config) ? config.layers : undefined;
  if (!Array.isArray(rawLayers)) throw fail(`modelTopology ${className} has no list of layers`);
  const sequential = className === "Sequential";
  const layers = rawLayers.map((layer, i): TfjsLayerSummary => {
    if (!isPlainObject(layer) || typeof layer.class_name !== "string" || !isPlainObject(layer.config)) {
      throw fail(`modelTopology layer ${i} has no class_name and config`);
    }
    const layerConfig = layer.config;
    const name = typeof layer.name === "string" ? layer.name : layerConfig.name;
    if (typeof name !== "string") throw fail(`modelTopology layer ${i} (${layer.class_name}) has no name`);
    const essentials = Object.fromEntries(Object.entries(layerConfig).filter(([key]) => !STRIPPED_CONFIG.test(key)));
    const previous = i > 0 ? rawLayers[i - 1] as Record<string, unknown> : undefined;
    const previousName = previous && isPlainObject(previous.config) ? previous.config.name : undefined;
    const inbound = sequential
      ? (typeof previousName === "string" ? [previousName] : [])
      : inboundNames(layer.inbound_nodes);
    const prefix = `${name}/`;
    return {
      className: layer.class_name,
      name,
      config: essentials,
      inbound,
      weightNames: weightNames.filter((w) => w.startsWith(prefix)),
    };
  });
  const modelName = isPlainObject(config) && typeof config.name === "string" ? config.name : undefined;
  const inputs = sequential
    ? layers.slice(0, 1).map((l) => l.name)
    : endpointNames(isPlainObject(config) ? config.input_layers : undefined);
  const outputs = sequential
    ? layers.slice(-1).map((l) => l.name)
    : endpointNames(isPlainObject(config) ? config.output_layers : undefined);
  const kerasVersion = typeof modelTopology.keras_version === "string" ? modelTopology.keras_version : undefined;
  return { className, name: modelName, kerasVersion, inputs, outputs, layers, raw: modelTopology };
}

function optionalString(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** Reads one file of a tfjs layers model: `model.json` (as text) or a weight shard, by its path in the manifest. */
export interface TfjsModelFiles {
  /** The text of model.json. */
  modelJson(): Promise<string>;
  /** A weight shard's bytes; `at` names it for messages (`weightsManifest[g].paths[p]`). */
  shard(path: string, at: string): Promise<Uint8Array>;
}

/**
 * Reads a tfjs layers model: `model.json`, then every shard listed in `weightsManifest[].paths` (relative to the
 * folder of model.json), each group's shards concatenated in manifest order. Refuses, naming the file and the
 * problem: a missing model.json or shard, invalid JSON, a graph model, missing `modelTopology`/`weightsManifest`,
 * unsupported dtypes or quantization, and shards holding fewer or more bytes than the manifest needs.
 *
 * @example
 * ```ts
 * import { readTfjsLayersModel } from "./tfjs_layers.ts";
 * const { topology, weights } = await readTfjsLayersModel("meshnet/model.json");
 * console.log(weights.get("21/kernel")?.shape); // [3, 3, 3, 1, 5]
 * ```
 */
export async function readTfjsLayersModel(modelJsonPath: string | URL): Promise<TfjsLayersModel> {
  // loaded on first use, so a browser bundle of the library links without Node's modules
  const { dirname, join } = await import("node:path");
  const source = modelJsonPath instanceof URL ? (await import("node:url")).fileURLToPath(modelJsonPath) : modelJsonPath;
  const fail: Fail = (problem) => new CheckpointError(source, problem);
  const folder = dirname(source);
  return await loadTfjsLayersModel(source, {
    async modelJson() {
      try {
        return await Deno.readTextFile(source);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) throw fail("file not found");
        throw error;
      }
    },
    async shard(path, at) {
      const shardPath = join(folder, path);
      try {
        return await Deno.readFile(shardPath);
      } catch (error) {
        if (error instanceof Deno.errors.NotFound) {
          throw fail(`weight shard "${path}" (${at}) not found at ${shardPath}`);
        }
        throw error;
      }
    },
  });
}

/**
 * Loads a tfjs layers model through `files` (a folder on disk, a web server…), with the checks of
 * {@link readTfjsLayersModel}; `source` names model.json in messages.
 *
 * @example
 * ```ts
 * import { loadTfjsLayersModel } from "./tfjs_layers.ts";
 * const base = new URL("zoo/gwm-light/", location.href);
 * const get = async (p: string) => new Uint8Array(await (await fetch(new URL(p, base))).arrayBuffer());
 * const model = await loadTfjsLayersModel("model.json", {
 *   modelJson: async () => new TextDecoder().decode(await get("model.json")),
 *   shard: (path) => get(path),
 * });
 * ```
 */
export async function loadTfjsLayersModel(source: string, files: TfjsModelFiles): Promise<TfjsLayersModel> {
  const fail: Fail = (problem) => new CheckpointError(source, problem);
  const text = await files.modelJson();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw fail(`not valid JSON (${(error as Error).message})`);
  }
  if (!isPlainObject(json)) throw fail("model.json is not a JSON object");
  if (json.format === "graph-model") throw fail("this is a tfjs graph model; only layers models can be imported");
  if (json.modelTopology === undefined) throw fail("model.json has no modelTopology");
  if (json.weightsManifest === undefined) throw fail("model.json has no weightsManifest");
  const groups = parseManifest(json.weightsManifest, fail);

  const groupBytes: Uint8Array[] = [];
  for (const [g, group] of groups.entries()) {
    const shards: Uint8Array[] = [];
    for (const [p, path] of group.paths.entries()) {
      shards.push(await files.shard(path, `weightsManifest[${g}].paths[${p}]`));
    }
    const total = shards.reduce((sum, s) => sum + s.length, 0);
    const joined = new Uint8Array(total);
    let offset = 0;
    for (const shard of shards) {
      joined.set(shard, offset);
      offset += shard.length;
    }
    groupBytes.push(joined);
  }
  const weights = decodeTfjsWeights(json.weightsManifest, groupBytes, { source });
  const topology = summarizeTfjsTopology(json.modelTopology, [...weights.keys()], { source });
  return {
    format: optionalString(json.format),
    generatedBy: optionalString(json.generatedBy),
    convertedBy: optionalString(json.convertedBy),
    topology,
    weights,
  };
}
