/**
 * Exporting a network with its variables for deployment, one entry point for `cli.ts export` and `cli.ts zoo
 * export`: trace once, translate, write. Formats: `tfjs` (a tfjs layers-model folder, loadable by
 * `tf.loadLayersModel` and brainchop) and `onnx` (`model.onnx` in the folder, for onnxruntime and the ONNX tools).
 *
 * @module
 */
import type { tf } from "../deps.ts";
import type { Layer, VariableStore } from "../dsl/mod.ts";
import { traceNetwork } from "./trace.ts";
import { kerasModelFromTrace } from "./keras.ts";
import { writeTfjsLayersModel } from "./tfjs_files.ts";
import { onnxModelFromTrace } from "./onnx.ts";
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic_write.ts";

/** Export formats. */
export const EXPORT_FORMATS = ["tfjs", "onnx"] as const;
/** One export format. */
export type ExportFormat = typeof EXPORT_FORMATS[number];

/** Options of {@link exportNetwork}. */
export interface ExportOptions {
  readonly format: ExportFormat;
  /** Output folder. */
  readonly out: string;
  /** The shape the network is traced on, batch first, channels last, e.g. `[1, 16, 16, 16, 1]`. */
  readonly traceShape: readonly number[];
  /** The declared input shape without batch (`null` = free); default: spatial dims free. */
  readonly inputShape?: readonly (number | null)[];
  /** Model name (default: the network's). */
  readonly name?: string;
}

/** What was written. */
export interface ExportResult {
  readonly files: readonly string[];
  /** Layers (tfjs) or ops (ONNX) by type, e.g. `{ Conv3D: 10, Activation: 9 }`. */
  readonly layerCounts: Readonly<Record<string, number>>;
  readonly parameters: number;
}

/** Checks a format name, naming the accepted ones. */
export function parseExportFormat(text: string): ExportFormat {
  if ((EXPORT_FORMATS as readonly string[]).includes(text)) return text as ExportFormat;
  throw new Error(`export format "${text}" is not supported (supported: ${EXPORT_FORMATS.join(", ")})`);
}

/**
 * Traces `network` (variables from `store`) and writes it in `format` to `out`. Refuses, naming the layer, a
 * network with a layer the format cannot express; nothing is written then.
 *
 * @example
 * ```ts
 * await exportNetwork(net, store, { format: "tfjs", out: "meshnet_tfjs", traceShape: [1, 16, 16, 16, 1] });
 * ```
 */
export async function exportNetwork(
  network: Layer<[tf.Tensor], unknown>,
  store: VariableStore,
  options: ExportOptions,
): Promise<ExportResult> {
  const trace = traceNetwork(network, store, options.traceShape);
  try {
    if (options.format === "onnx") {
      const onnx = onnxModelFromTrace(trace, { name: options.name });
      await Deno.mkdir(options.out, { recursive: true });
      const path = join(options.out, "model.onnx");
      await writeFileAtomic(path, onnx.bytes);
      return { files: [path], layerCounts: onnx.opCounts, parameters: onnx.parameters };
    }
    const model = kerasModelFromTrace(trace, { name: options.name, inputShape: options.inputShape });
    const files = await writeTfjsLayersModel(options.out, model);
    const parameters = model.weights.reduce((n, w) => n + w.data.length, 0);
    return { files, layerCounts: model.layerCounts, parameters };
  } finally {
    trace.dispose();
  }
}
