/**
 * Small file helpers for the data pipeline: atomic text writes and headerless CSV rows (NiftyNet's CSV style).
 *
 * @module
 */

/** Writes text atomically: a temporary file in the same folder, then a rename. */
export async function writeTextAtomic(path: string, text: string): Promise<void> {
  const slash = path.lastIndexOf("/");
  const dir = slash >= 0 ? path.slice(0, slash) || "/" : ".";
  const tmp = `${dir}/.${path.slice(slash + 1)}.${crypto.randomUUID().slice(0, 8)}.tmp`;
  try {
    await Deno.writeTextFile(tmp, text);
    await Deno.rename(tmp, path);
  } catch (e) {
    await Deno.remove(tmp).catch(() => {});
    throw new Error(`cannot write "${path}": ${(e as Error).message}`);
  }
}

/** Splits CSV text into trimmed rows of cells (no quoting: NiftyNet's lists hold plain ids and paths). */
export function parseCsvRows(text: string): string[][] {
  return text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length > 0 && !l.startsWith("#"))
    .map((l) => l.split(",").map((c) => c.trim()));
}

/** Whether a path exists. */
export async function exists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Joins a folder and a name. */
export function joinPath(dir: string, name: string): string {
  return dir.endsWith("/") ? dir + name : `${dir}/${name}`;
}
