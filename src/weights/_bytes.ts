/**
 * Little-endian byte conversions shared by the safetensors codec and the tfjs importer. Results are always fresh,
 * aligned typed arrays: file offsets are often not multiples of the element size, and callers must not alias the
 * file buffer.
 *
 * @module
 */
import type { HostArray, HostDType } from "./named_tensors.ts";

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Bytes per element of each host dtype. */
export const ITEM_SIZE: Readonly<Record<HostDType, number>> = {
  float32: 4,
  float64: 8,
  int32: 4,
  int16: 2,
  int8: 1,
  uint8: 1,
  uint16: 2,
  bool: 1,
};

/** Allocates the typed array that holds `length` elements of `dtype`. */
export function allocate(dtype: HostDType, length: number): HostArray {
  switch (dtype) {
    case "float32":
      return new Float32Array(length);
    case "float64":
      return new Float64Array(length);
    case "int32":
      return new Int32Array(length);
    case "int16":
      return new Int16Array(length);
    case "int8":
      return new Int8Array(length);
    case "uint8":
    case "bool":
      return new Uint8Array(length);
    case "uint16":
      return new Uint16Array(length);
  }
}

/** Whether `data` is the typed-array class that holds `dtype` (bool lives in a Uint8Array). */
export function holdsDType(data: HostArray, dtype: HostDType): boolean {
  switch (dtype) {
    case "float32":
      return data instanceof Float32Array;
    case "float64":
      return data instanceof Float64Array;
    case "int32":
      return data instanceof Int32Array;
    case "int16":
      return data instanceof Int16Array;
    case "int8":
      return data instanceof Int8Array;
    case "uint8":
    case "bool":
      return data instanceof Uint8Array;
    case "uint16":
      return data instanceof Uint16Array;
  }
}

/** Reverses every group of `size` bytes in place (little ↔ big endian). */
function swapBytes(bytes: Uint8Array, size: number): void {
  if (size === 1) return;
  for (let i = 0; i < bytes.length; i += size) bytes.subarray(i, i + size).reverse();
}

/** Copies little-endian `bytes` (length a multiple of the item size) into a new typed array of `dtype`. */
export function fromLittleEndian(bytes: Uint8Array, dtype: HostDType): HostArray {
  const size = ITEM_SIZE[dtype];
  const out = allocate(dtype, bytes.length / size);
  const view = new Uint8Array(out.buffer);
  view.set(bytes);
  if (!HOST_IS_LITTLE_ENDIAN) swapBytes(view, size);
  return out;
}

/** Writes the elements of `data` as little-endian bytes into `target` (which must have room for them). */
export function toLittleEndian(data: HostArray, dtype: HostDType, target: Uint8Array): void {
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  target.set(bytes);
  if (!HOST_IS_LITTLE_ENDIAN) swapBytes(target.subarray(0, bytes.length), ITEM_SIZE[dtype]);
}

/** The value of one IEEE 754 binary16 bit pattern (subnormals, ±0, ±Infinity and NaN included). */
export function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 31) return fraction ? NaN : sign * Infinity;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}
