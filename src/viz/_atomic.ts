/** Atomic file writes: a temp file in the target's folder, then a rename, so readers never see partial output. */

/** Writes `data` to `path` atomically (temp file + rename in the same folder); the temp file never outlives a failure. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash + 1) : "";
  const tmp = `${dir}.${path.slice(slash + 1)}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    // Deno.writeFile honours the umask (unlike Deno.makeTempFile's 0600), so outputs stay readable by others.
    if (typeof data === "string") await Deno.writeTextFile(tmp, data, { createNew: true });
    else await Deno.writeFile(tmp, data, { createNew: true });
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new Error(`cannot write "${path}": ${e instanceof Error ? e.message : e}`, { cause: e });
  }
}
