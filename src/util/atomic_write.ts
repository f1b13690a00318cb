/**
 * Atomic file replacement, used by every writer (checkpoints, images, graphs, CSV): the data goes to a temporary
 * file in the target's folder, is flushed to disk, and only then renamed over the target, so a crash or error never
 * leaves a half-written file at the target path, and an existing good file survives a failed write.
 *
 * @module
 */

/** Writes `data` to `path` atomically; the temp file never outlives a failure. Errors name the path. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const bytes = typeof data === "string" ? new TextEncoder().encode(data) : data;
  // loaded on first use, so a browser bundle of the library links without Node's modules
  const { basename, dirname } = await import("node:path");
  const tmp = `${dirname(path)}/.${basename(path)}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    // Deno.open honours the umask (unlike Deno.makeTempFile's 0600), so outputs stay readable like any file.
    const file = await Deno.open(tmp, { write: true, createNew: true });
    try {
      let written = 0;
      while (written < bytes.length) written += await file.write(bytes.subarray(written));
      await file.syncData();
    } finally {
      file.close();
    }
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new Error(`cannot write "${path}": ${e instanceof Error ? e.message : e}`, { cause: e });
  }
}
