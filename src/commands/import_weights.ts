/**
 * `cli.ts import-weights <model.json> --out <file.safetensors> [--network NAME] [--map from/=to/]…`: a tfjs
 * layers-model's weights written as a safetensors checkpoint under DSL variable names.
 *
 * @module
 */
import {
  checkpointMetadata,
  type NamedTensors,
  readTfjsLayersModel,
  renameTensors,
  writeSafetensors,
} from "../weights/mod.ts";
import { dslNamesForKeras, kerasInputShape, pairWithNetwork, parseScopeMapping } from "../dsl/mod.ts";
import { resolveNetwork } from "../../networks/mod.ts";

/** Options of {@link importWeightsCommand}. */
export interface ImportWeightsOptions {
  readonly out: string;
  /** Pair weights with this network's variables (registered name or module) instead of renaming by scope. */
  readonly network?: string;
  /** Scope mappings `from/=to/`, applied to the Keras names, or after pairing with a network. */
  readonly map?: readonly string[];
  /** Network constructor options as JSON (numClasses is inferred from the last weight when absent). */
  readonly networkOptions?: string;
}

/** Imports, writes the file atomically and returns the lines to print. */
export async function importWeightsCommand(modelJson: string, options: ImportWeightsOptions): Promise<string[]> {
  const model = await readTfjsLayersModel(modelJson);
  const mappings = (options.map ?? []).map(parseScopeMapping);
  let tensors: NamedTensors;
  const lines: string[] = [];
  if (options.network) {
    const extra = options.networkOptions ? parseJsonOption(options.networkOptions) : {};
    const last = [...model.weights.values()].at(-1);
    const numClasses = (extra.numClasses as number | undefined) ?? last?.shape.at(-1) ?? 1;
    const net = (await resolveNetwork(options.network))({ ...extra, numClasses });
    const paired = pairWithNetwork(model, net, kerasInputShape(model));
    tensors = renameTensors(paired.tensors, mappings);
    for (const p of paired.pairs) lines.push(`  ${p.source} → ${p.target} [${p.shape}]`);
  } else {
    tensors = dslNamesForKeras(model, mappings);
    for (const [name, t] of tensors) lines.push(`  ${name} [${t.shape}]`);
  }
  const metadata = checkpointMetadata({
    network: options.network,
    extra: { source: modelJson, source_format: "tfjs-layers-model" },
  });
  await writeSafetensors(options.out, tensors, { metadata });
  const count = [...tensors.values()].reduce((n, t) => n + t.data.length, 0);
  return [
    `imported ${tensors.size} tensors (${count} parameters) from ${modelJson}:`,
    ...lines,
    `wrote ${options.out}`,
  ];
}

function parseJsonOption(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text);
    if (value && typeof value === "object" && !Array.isArray(value)) return value;
  } catch { /* reported below */ }
  throw new Error(`--network-options must be a JSON object, got ${text}`);
}
