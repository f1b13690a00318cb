/**
 * The zoo's local cache of published files (weights, topologies, label tables), on Deno's file system.
 *
 * The cache is laid out like upstream (`<cache>/models/<dir>/<file>`), so it is itself a valid mirror. A file
 * reaches its cache path only by a rename after its size and sha256 were checked, and is checked again before each
 * use; transfers go to `<file>.part` first, which a later run resumes (HTTP `Range`) or restarts. Pulls into one
 * cache are serialised by an OS file lock (`<cache>/.lock`), so concurrent processes never write the same file.
 *
 * Sources: the manifest's public URL, or a mirror laid out like upstream: a folder (`../shared/data/brainchop`) or
 * an http(s) URL. Deno-only (file system); a browser build would provide its own loader with the same contract.
 *
 * @example
 * ```ts
 * import { ensureZooFiles } from "./cache.ts";
 * const paths = await ensureZooFiles(entry.files, { mirror: "../shared/data/brainchop" });
 * const modelJson = paths["models/model5_gw_ae/model.json"];
 * ```
 *
 * @module
 */
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import type { ZooFile } from "./files.ts";
import { downloadToPart, type ZooProgress } from "./_download.ts";
import { copyFromFolder } from "./_mirror_folder.ts";
import { withFileLock } from "./_lock.ts";
import { fileSha256 } from "./_sha256.ts";

export type { ZooProgress } from "./_download.ts";

/** Options of {@link ensureZooFiles}. */
export interface EnsureZooFilesOptions {
  /** A folder or http(s) URL laid out like upstream; default env `NIFTYTS_ZOO_MIRROR`, else each file's own URL. */
  readonly mirror?: string;
  /** Cache folder; default {@link zooCacheDir}. */
  readonly cacheDir?: string;
  /** Called as bytes arrive (or are copied from a mirror folder). */
  readonly onProgress?: (p: ZooProgress) => void;
  /** Called once when another pull (this or another process) holds the cache's lock for more than 200 ms. */
  readonly onWaiting?: (cacheDir: string) => void;
  /** A download fails when the server sends nothing for this long (default 60 s). */
  readonly idleTimeoutMs?: number;
}

/**
 * The zoo cache folder: env `NIFTYTS_CACHE` if set, else the platform's cache folder (`$XDG_CACHE_HOME` or
 * `~/.cache`, `~/Library/Caches` on macOS, `%LOCALAPPDATA%` on Windows) + `/niftyts/zoo`. Absolute.
 */
export function zooCacheDir(): string {
  const fromEnv = Deno.env.get("NIFTYTS_CACHE");
  if (fromEnv) return resolve(fromEnv);
  return join(platformCacheDir(), "niftyts", "zoo");
}

function platformCacheDir(): string {
  const env = (name: string) => Deno.env.get(name) || undefined;
  const none = "cannot find a cache folder: set NIFTYTS_CACHE";
  if (Deno.build.os === "windows") {
    const local = env("LOCALAPPDATA") ?? (env("USERPROFILE") && join(env("USERPROFILE")!, "AppData", "Local"));
    if (!local) throw new Error(`${none} (neither LOCALAPPDATA nor USERPROFILE is set)`);
    return local;
  }
  const home = env("HOME");
  if (Deno.build.os === "darwin") {
    if (!home) throw new Error(`${none} (HOME is not set)`);
    return join(home, "Library", "Caches");
  }
  const xdg = env("XDG_CACHE_HOME");
  if (xdg && xdg.startsWith("/")) return xdg; // the XDG spec ignores relative values
  if (!home) throw new Error(`${none} (neither XDG_CACHE_HOME nor HOME is set)`);
  return join(home, ".cache");
}

/**
 * Makes every file available in the cache, verified (size + sha256), and returns `ZooFile.path` → absolute local
 * path. Files already cached are re-hashed, not fetched; a cached file that fails its check is fetched again.
 * Errors are one line naming the file and the source; no unverified file is ever left at a cache path.
 */
export async function ensureZooFiles(
  files: readonly ZooFile[],
  options: EnsureZooFilesOptions = {},
): Promise<Record<string, string>> {
  const root = resolve(options.cacheDir ?? zooCacheDir());
  const source = parseMirror(options.mirror ?? Deno.env.get("NIFTYTS_ZOO_MIRROR"));
  const paths: Record<string, string> = {};
  for (const file of files) {
    checkZooFile(file);
    paths[file.path] = await ensureOne(root, file, source, options);
  }
  return paths;
}

/**
 * Whether the files are in the cache, verified: all (`cached`), none and nothing half-transferred (`absent`), or
 * some (`partial`). Hashes the files present (cheap for the zoo's few-MB entries).
 */
export async function cachedState(
  files: readonly ZooFile[],
  options: { cacheDir?: string } = {},
): Promise<"cached" | "partial" | "absent"> {
  const root = resolve(options.cacheDir ?? zooCacheDir());
  let verified = 0, started = 0;
  for (const file of files) {
    checkZooFile(file);
    const target = cachePath(root, file);
    if (await holds(target, file)) verified++;
    else if (await exists(target) || await exists(`${target}.part`)) started++;
  }
  if (verified === files.length) return "cached";
  return verified + started === 0 ? "absent" : "partial";
}

type Source = { kind: "upstream" } | { kind: "url"; base: string } | { kind: "folder"; folder: string };

function parseMirror(mirror: string | undefined): Source {
  if (!mirror) return { kind: "upstream" };
  if (/^https?:\/\//i.test(mirror)) return { kind: "url", base: mirror.endsWith("/") ? mirror : `${mirror}/` };
  if (/^file:/i.test(mirror)) return { kind: "folder", folder: fileURLToPath(mirror) };
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(mirror)) {
    throw new Error(`zoo mirror "${mirror}" must be a folder or an http(s) URL`);
  }
  return { kind: "folder", folder: resolve(mirror) };
}

async function ensureOne(root: string, file: ZooFile, source: Source, options: EnsureZooFilesOptions) {
  const target = cachePath(root, file);
  if (await holds(target, file)) return target;
  await Deno.mkdir(dirname(target), { recursive: true });
  return await withFileLock(join(root, ".lock"), async () => {
    if (await holds(target, file)) return target; // another process finished it while we waited
    await Deno.remove(target).catch(() => {}); // a cached file that no longer verifies
    const part = `${target}.part`;
    if (source.kind === "folder") await copyFromFolder(source.folder, part, file, options.onProgress);
    else {
      const url = source.kind === "url" ? new URL(file.path, source.base).href : file.url;
      await downloadToPart(url, part, file, {
        onProgress: options.onProgress,
        idleTimeoutMs: options.idleTimeoutMs ?? 60_000,
      });
    }
    await Deno.rename(part, target);
    return target;
  }, options.onWaiting && (() => options.onWaiting!(root)));
}

/** True when `path` is exactly the file the manifest describes (size, then sha256). */
async function holds(path: string, file: ZooFile): Promise<boolean> {
  try {
    const info = await Deno.stat(path);
    if (!info.isFile || info.size !== file.bytes) return false;
    return await fileSha256(path) === file.sha256;
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return false;
    throw new Error(`cannot read cached file "${path}": ${(e as Error).message}`);
  }
}

async function exists(path: string): Promise<boolean> {
  return await Deno.stat(path).then(() => true, () => false);
}

function cachePath(root: string, file: ZooFile): string {
  return join(root, ...file.path.split("/"));
}

/** A manifest's file must be a plain relative path below the mirror root with a size and a hex sha256. */
function checkZooFile(file: ZooFile): void {
  const parts = file.path.split("/");
  if (
    !file.path || file.path.startsWith("/") || /\\|^[a-z]:/i.test(file.path) ||
    parts.some((p) => !p || p === "." || p === "..")
  ) {
    throw new Error(`zoo file path "${file.path}" must be relative, with "/" separators and no "." or ".." parts`);
  }
  if (!Number.isSafeInteger(file.bytes) || file.bytes < 0) {
    throw new Error(`zoo file "${file.path}": bytes must be a whole number, got ${file.bytes}`);
  }
  if (!/^[0-9a-f]{64}$/.test(file.sha256)) {
    throw new Error(`zoo file "${file.path}": sha256 must be 64 lower-case hex digits, got "${file.sha256}"`);
  }
}
