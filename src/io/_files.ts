/**
 * File helpers shared by the readers and writers: gzip-aware reads and atomic writes.
 *
 * @module
 */
import { gunzipSync, gzipSync } from "node:zlib";

/** Whether bytes start with the gzip magic number. */
export function isGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/** Reads a file, gunzipping it when its content is gzip (whatever its name says). */
export async function readMaybeGzip(path: string): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) throw new Error(`cannot read "${path}": file not found`);
    throw new Error(`cannot read "${path}": ${(e as Error).message}`);
  }
  if (!isGzip(bytes)) return bytes;
  try {
    const out = gunzipSync(bytes);
    return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
  } catch (e) {
    throw new Error(`cannot read "${path}": gzip data is corrupt (${(e as Error).message})`);
  }
}

/** Gzips bytes (level 6, as nibabel's default). */
export function gzip(bytes: Uint8Array): Uint8Array {
  const out = gzipSync(bytes, { level: 6 });
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}
