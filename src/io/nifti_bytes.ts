/**
 * A whole NIfTI file held in memory (`.nii` or `.nii.gz` bytes, as a browser gets them from a file input), read
 * with the same checks as the file readers: gzip detected from the content and inflated (every member) in memory,
 * but never past the image the header announces, so a gzip bomb or trailing data is not inflated.
 *
 * @module
 */
import { GunzipStream } from "../deps.ts";
import type { Image } from "../geometry/image.ts";
import { voxelCount } from "../geometry/image.ts";
import { decodeHeader } from "./nifti_header.ts";
import { parseNifti } from "./nifti_read.ts";
import { isGzip } from "./_files.ts";

const PROBE = 540;
const CHUNK = 1 << 16;

/** Inflates gzip `bytes` until `enough(inflatedSoFar)` says stop; errors name `name`. */
function gunzipUntil(
  bytes: Uint8Array,
  name: string,
  enough: (head: Uint8Array, length: number) => number,
): Uint8Array {
  const chunks: Uint8Array[] = [];
  let length = 0, limit = Infinity, ended = false;
  const stream = new GunzipStream((chunk, final) => {
    chunks.push(chunk);
    length += chunk.length;
    if (final) ended = true;
  });
  const joined = () => {
    const out = new Uint8Array(length);
    let at = 0;
    for (const c of chunks) {
      out.set(c, at);
      at += c.length;
    }
    chunks.length = 0;
    chunks.push(out);
    return out;
  };
  try {
    for (let at = 0; at < bytes.length && length < limit; at += CHUNK) {
      stream.push(bytes.subarray(at, at + CHUNK), at + CHUNK >= bytes.length);
      if (limit === Infinity && length >= PROBE) limit = enough(joined(), length);
    }
  } catch (e) {
    const message = (e as Error).message;
    if (/unexpected EOF/i.test(message)) throw new Error(`${name}: gzip data is truncated (the file ends early)`);
    throw new Error(`${name}: gzip data is corrupt (${message})`);
  }
  const out = joined();
  if (!ended && length < limit) throw new Error(`${name}: gzip data is truncated (the file ends early)`);
  return out.subarray(0, Math.min(out.length, limit));
}

/**
 * Decodes a NIfTI-1/NIfTI-2 file from its bytes, gunzipping gzip content whatever the name says (`name` is used
 * in messages and to tell Analyze pairs). A PNG, a truncated file or a header that does not fit gives one line
 * naming `name`.
 *
 * @example
 * ```ts
 * import { decodeNiftiFile } from "./nifti_bytes.ts";
 * const image = decodeNiftiFile(new Uint8Array(await file.arrayBuffer()), file.name);
 * ```
 */
export function decodeNiftiFile(bytes: Uint8Array, name: string): Image {
  const raw = isGzip(bytes)
    ? gunzipUntil(bytes, name, (head) => {
      const h = decodeHeader(head, name);
      return h.voxOffset + voxelCount(h.shape) * h.datatype.bytes;
    })
    : bytes;
  return parseNifti(raw, name);
}
