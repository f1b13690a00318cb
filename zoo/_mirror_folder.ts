/**
 * One zoo file copied from a local mirror folder (laid out like upstream: `models/<dir>/<file>`) into a partial
 * file, hashed as it is copied; the partial file is removed unless size and sha256 are right.
 *
 * @module
 */
import type { ZooFile } from "./files.ts";
import { sha256Hash } from "./_sha256.ts";
import type { ZooProgress } from "./_download.ts";

/** Copies `folder/<file.path>` to `part`, verified; errors name the mirror folder and the file. */
export async function copyFromFolder(
  folder: string,
  part: string,
  file: ZooFile,
  onProgress?: (p: ZooProgress) => void,
): Promise<void> {
  const source = `${folder}/${file.path}`;
  let info: Deno.FileInfo;
  try {
    info = await Deno.stat(source);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw new Error(`cannot read mirror file "${source}": ${message(e)}`);
    const rootMissing = !(await Deno.stat(folder).then((s) => s.isDirectory, () => false));
    throw new Error(
      rootMissing ? `mirror folder "${folder}" does not exist` : `mirror folder "${folder}" has no "${file.path}"`,
    );
  }
  if (info.size !== file.bytes) {
    throw new Error(`mirror file "${source}" is ${info.size} bytes, expected ${file.bytes}`);
  }
  const hash = sha256Hash();
  try {
    using input = await Deno.open(source, { read: true });
    using out = await Deno.open(part, { write: true, create: true, truncate: true });
    const buffer = new Uint8Array(1 << 20);
    let received = 0;
    while (true) {
      const n = await input.read(buffer);
      if (n === null) break;
      const chunk = buffer.subarray(0, n);
      hash.update(chunk);
      let written = 0;
      while (written < n) written += await out.write(chunk.subarray(written));
      received += n;
      onProgress?.({ file: file.path, received, total: file.bytes });
    }
    await out.syncData();
  } catch (e) {
    await Deno.remove(part).catch(() => {});
    throw new Error(`cannot copy mirror file "${source}": ${message(e)}`);
  }
  const digest = hash.digest("hex");
  if (digest !== file.sha256) {
    await Deno.remove(part).catch(() => {});
    throw new Error(`mirror file "${source}": sha256 is ${digest}, expected ${file.sha256}`);
  }
}

function message(e: unknown): string {
  return (e instanceof Error ? e.message : String(e)).split("\n")[0];
}
