/**
 * The scoped-layer DSL: layers, scopes, variables, initializers, restore rules and graph recording.
 *
 * @module
 */
export * from "./layer.ts";
export * from "./variable_store.ts";
export * from "./initializers.ts";
export * from "./restore.ts";
export * from "./graph_recorder.ts";
export { type KernelObserver, withKernelObserver } from "./kernel_tap.ts";
export type * from "./graph_types.ts";
export { checkName, joinPath, type VariablePath } from "./names.ts";
export { RandomStream } from "./random.ts";
export * from "./checkpoint.ts";
export * from "./weight_import.ts";
