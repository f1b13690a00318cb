/**
 * Model export for deployment: a network with its variables traced into a kernel graph, translated into a Keras
 * model and written as a tfjs layers-model folder, or into an ONNX model.
 *
 * @example
 * ```ts
 * import { exportNetwork } from "./mod.ts";
 * await exportNetwork(net, store, { format: "tfjs", out: "model_tfjs", traceShape: [1, 16, 16, 16, 1] });
 * ```
 *
 * @module
 */
export * from "./trace.ts";
export * from "./keras.ts";
export * from "./tfjs_files.ts";
export * from "./onnx.ts";
export * from "./export_network.ts";
