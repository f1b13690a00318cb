/**
 * Plain named tensors: the common currency of checkpoints, importers and the restore-initializer. Host memory
 * only (typed arrays), so files can be read and written without touching a tfjs backend.
 *
 * @module
 */

/** Element types we store; names follow safetensors (`F32`…) mapped to tfjs-like lower-case names. */
export type HostDType = "float32" | "float64" | "int32" | "int16" | "int8" | "uint8" | "uint16" | "bool";

/** The typed array that holds each {@link HostDType}. */
export type HostArray = Float32Array | Float64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array;

/** One tensor held in host memory, row-major (C order). */
export interface NamedTensor {
  readonly dtype: HostDType;
  readonly shape: readonly number[];
  readonly data: HostArray;
}

/** Tensors keyed by their full variable path (e.g. `HighRes3DNet/conv_0/conv_/w`), in insertion order. */
export type NamedTensors = Map<string, NamedTensor>;

/** Number of elements of a shape (1 for a scalar). */
export function sizeOf(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}
