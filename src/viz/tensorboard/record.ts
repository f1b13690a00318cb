/**
 * TFRecord framing, the container format of TensorBoard event files.
 *
 * @module
 */
import { maskedCrc32c } from "./crc32c.ts";

/**
 * Frames one record as TensorFlow's record reader expects it: uint64 little-endian length, masked CRC-32C of
 * those 8 length bytes, the data, masked CRC-32C of the data (both CRCs uint32 little-endian).
 *
 * @example
 * ```ts
 * const framed = frameRecord(new Uint8Array([1, 2, 3])); // 8 + 4 + 3 + 4 = 19 bytes
 * ```
 */
export function frameRecord(data: Uint8Array): Uint8Array {
  const out = new Uint8Array(16 + data.length);
  const view = new DataView(out.buffer);
  view.setBigUint64(0, BigInt(data.length), true);
  view.setUint32(8, maskedCrc32c(out.subarray(0, 8)), true);
  out.set(data, 12);
  view.setUint32(12 + data.length, maskedCrc32c(data), true);
  return out;
}
