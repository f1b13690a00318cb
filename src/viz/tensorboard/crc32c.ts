/**
 * CRC-32C (Castagnoli), as TFRecord framing uses it: the plain checksum and TensorFlow's "masked" form.
 *
 * @module
 */
import { crc32cUnmasked } from "../../deps_deno.ts";

/**
 * CRC-32C of `bytes` (RFC 3720), as an unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * crc32c(new TextEncoder().encode("123456789")); // 0xe3069283
 * ```
 */
export function crc32c(bytes: Uint8Array): number {
  return crc32cUnmasked(bytes) >>> 0;
}

/**
 * TensorFlow's masked CRC-32C: `((crc >>> 15) | (crc << 17)) + 0xa282ead8` (mod 2³²). Masking keeps a CRC that
 * is stored next to the data it covers from being a valid CRC of itself.
 *
 * @example
 * ```ts
 * maskedCrc32c(new Uint8Array(8)); // masked checksum of an all-zero record header
 * ```
 */
export function maskedCrc32c(bytes: Uint8Array): number {
  const crc = crc32c(bytes);
  return ((((crc >>> 15) | (crc << 17)) >>> 0) + 0xa282ead8) >>> 0;
}
