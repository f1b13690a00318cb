/**
 * NIfTI datatype codes, their sizes and the typed arrays that hold them.
 *
 * @module
 */
import type { NiftiDatatype, VoxelData } from "../geometry/image.ts";

/** Facts about one NIfTI datatype. */
export interface DatatypeInfo {
  readonly name: NiftiDatatype;
  readonly code: number;
  /** Bytes per voxel on disk. */
  readonly bytes: number;
  /** Bytes per stored component (for byte swapping). */
  readonly componentBytes: number;
}

const TABLE: readonly DatatypeInfo[] = [
  { name: "uint8", code: 2, bytes: 1, componentBytes: 1 },
  { name: "int16", code: 4, bytes: 2, componentBytes: 2 },
  { name: "int32", code: 8, bytes: 4, componentBytes: 4 },
  { name: "float32", code: 16, bytes: 4, componentBytes: 4 },
  { name: "float64", code: 64, bytes: 8, componentBytes: 8 },
  { name: "rgb24", code: 128, bytes: 3, componentBytes: 1 },
  { name: "int8", code: 256, bytes: 1, componentBytes: 1 },
  { name: "uint16", code: 512, bytes: 2, componentBytes: 2 },
  { name: "uint32", code: 768, bytes: 4, componentBytes: 4 },
  { name: "int64", code: 1024, bytes: 8, componentBytes: 8 },
  { name: "uint64", code: 1280, bytes: 8, componentBytes: 8 },
  { name: "rgba32", code: 2304, bytes: 4, componentBytes: 1 },
];

/** NIfTI codes we recognise but do not read, with their names for error messages. */
const UNSUPPORTED: Readonly<Record<number, string>> = {
  0: "unknown",
  1: "binary",
  32: "complex64",
  1536: "float128",
  1792: "complex128",
  2048: "complex256",
};

/** Looks up a datatype by NIfTI code; throws naming the code when it is not one we read. */
export function datatypeByCode(code: number, what: string): DatatypeInfo {
  const info = TABLE.find((d) => d.code === code);
  if (info) return info;
  const name = UNSUPPORTED[code];
  throw new Error(
    name
      ? `${what}: datatype ${code} (${name}) is not supported`
      : `${what}: datatype code ${code} is not a NIfTI datatype`,
  );
}

/** Looks up a datatype by name (e.g. `"float32"`); throws listing the valid names. */
export function datatypeByName(name: string): DatatypeInfo {
  const info = TABLE.find((d) => d.name === name);
  if (!info) {
    throw new Error(`unknown datatype "${name}": expected one of ${TABLE.map((d) => d.name).join(", ")}`);
  }
  return info;
}

/** The NIfTI datatype that stores a typed array without loss. */
export function datatypeOfArray(data: VoxelData): NiftiDatatype {
  if (data instanceof Uint8Array) return "uint8";
  if (data instanceof Int8Array) return "int8";
  if (data instanceof Int16Array) return "int16";
  if (data instanceof Uint16Array) return "uint16";
  if (data instanceof Int32Array) return "int32";
  if (data instanceof Uint32Array) return "uint32";
  if (data instanceof Float32Array) return "float32";
  return "float64";
}

/** Whether the datatype holds integers (so data comparisons are exact and resampling may round). */
export function isIntegerDatatype(name: NiftiDatatype): boolean {
  return name !== "float32" && name !== "float64";
}
