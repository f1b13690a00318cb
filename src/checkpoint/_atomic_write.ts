/**
 * Atomic file replacement: the bytes go to a temporary file in the target's folder, are flushed, and only then
 * renamed over the target, so a crash or error never leaves a half-written file at the target path.
 *
 * @module
 */
import { basename, dirname } from "node:path";

/** Writes `bytes` to `path` atomically (temp file in the same folder + rename); removes the temp file on failure. */
export async function writeFileAtomic(path: string, bytes: Uint8Array): Promise<void> {
  const tmp = await Deno.makeTempFile({ dir: dirname(path), prefix: `.${basename(path)}.`, suffix: ".tmp" });
  try {
    const file = await Deno.open(tmp, { write: true, truncate: true });
    try {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.syncData();
    } finally {
      file.close();
    }
    // makeTempFile creates the file owner-only; a checkpoint should be as readable as any other written file.
    if (Deno.build.os !== "windows") await Deno.chmod(tmp, 0o644);
    await Deno.rename(tmp, path);
  } catch (error) {
    await Deno.remove(tmp).catch(() => {});
    throw error;
  }
}
