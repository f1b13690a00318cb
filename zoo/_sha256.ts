/**
 * Streaming sha256 of files: node:crypto's incremental hash, so a large weight file is hashed chunk by chunk as it
 * is read or downloaded rather than held in one buffer (Web Crypto's `digest` only takes a whole buffer).
 *
 * @module
 */
import { createHash, type Hash } from "node:crypto";

/** A fresh incremental sha256 (`update(chunk)` …, then `digest("hex")`). */
export function sha256Hash(): Hash {
  return createHash("sha256");
}

/** Feeds the first `limit` bytes of `path` (all of it when omitted) into `hash`; returns how many bytes it read. */
export async function hashFileInto(path: string, hash: Hash, limit = Infinity): Promise<number> {
  using file = await Deno.open(path, { read: true });
  const buffer = new Uint8Array(1 << 20);
  let total = 0;
  while (total < limit) {
    const n = await file.read(buffer.subarray(0, Math.min(buffer.length, limit - total)));
    if (n === null) break;
    hash.update(buffer.subarray(0, n));
    total += n;
  }
  return total;
}

/** Lower-case hex sha256 of a whole file. */
export async function fileSha256(path: string): Promise<string> {
  const hash = sha256Hash();
  await hashFileInto(path, hash);
  return hash.digest("hex");
}
