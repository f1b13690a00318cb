/**
 * `cli.ts zoo pull ID... [--from DIR|URL]`: brings zoo entries' files into the cache, verified, and returns the
 * lines to print (each entry's cached paths); progress goes to a callback the CLI renders on stderr.
 *
 * @module
 */
import { ensureZooFiles, zooCacheDir, type ZooProgress } from "../../zoo/cache.ts";
import type { ZooFile } from "../../zoo/files.ts";

/** What `zoo pull` needs to know about an entry. */
export interface ZooPullEntry {
  readonly id: string;
  readonly files: readonly ZooFile[];
}

/** Options of {@link zooPullCommand}. */
export interface ZooPullOptions {
  /** The entry of an id; throws one line (with a did-you-mean) for an unknown id. */
  readonly lookup: (id: string) => ZooPullEntry;
  /** A mirror folder or http(s) URL laid out like upstream; default env `NIFTYTS_ZOO_MIRROR`, else upstream. */
  readonly from?: string;
  /** Cache folder; default `zooCacheDir()`. */
  readonly cacheDir?: string;
  readonly onProgress?: (p: ZooProgress) => void;
  /** Called when another pull holds the cache (the CLI prints a line). */
  readonly onWaiting?: (cacheDir: string) => void;
  /**
   * Runs after an entry's files are verified (the CLI writes the entry's NiftyNet folder: checkpoint + config,
   * see zoo_niftynet.ts); returns more lines to print.
   */
  readonly afterPull?: (id: string, cacheDir: string) => Promise<string[]>;
}

/** Pulls every entry (ids are all looked up before anything is fetched) and returns the lines to print. */
export async function zooPullCommand(ids: readonly string[], options: ZooPullOptions): Promise<string[]> {
  if (ids.length === 0) throw new Error("zoo pull needs at least one entry id (see zoo list)");
  const entries = ids.map((id) => options.lookup(id));
  const cacheDir = options.cacheDir ?? zooCacheDir();
  const lines: string[] = [];
  for (const entry of entries) {
    const paths = await ensureZooFiles(entry.files, {
      mirror: options.from,
      cacheDir,
      onProgress: options.onProgress,
      onWaiting: options.onWaiting,
    });
    const bytes = entry.files.reduce((n, f) => n + f.bytes, 0);
    lines.push(`${entry.id}: ${entry.files.length} files (${formatBytes(bytes)}) verified in the cache`);
    for (const file of entry.files) lines.push(`  ${paths[file.path]}`);
    if (options.afterPull) lines.push(...await options.afterPull(entry.id, cacheDir));
  }
  return lines;
}

/** `models/x/model.bin [#######.................]  31%  0.4/1.3 MB` */
export function progressBar(p: ZooProgress, width = 24): string {
  const fraction = p.total > 0 ? Math.min(1, p.received / p.total) : 1;
  const filled = Math.round(fraction * width);
  const percent = `${Math.floor(fraction * 100)}%`.padStart(4);
  const total = formatBytes(p.total);
  const received = formatBytes(p.received, p.total).replace(/ [kMG]?B$/, "");
  return `${p.file} [${"#".repeat(filled)}${".".repeat(width - filled)}] ${percent}  ${received}/${total}`;
}

/**
 * A progress renderer for stderr: on a terminal the bar is redrawn in place (at most every 100 ms, always at the
 * end of a file); elsewhere (logs, CI) one line per finished file.
 */
export function stderrProgress(isTerminal = Deno.stderr.isTerminal()): (p: ZooProgress) => void {
  const encoder = new TextEncoder();
  let last = 0;
  return (p) => {
    const done = p.received >= p.total;
    if (!isTerminal) {
      if (done) Deno.stderr.writeSync(encoder.encode(`${progressBar(p)}\n`));
      return;
    }
    const now = performance.now();
    if (!done && now - last < 100) return;
    last = now;
    Deno.stderr.writeSync(encoder.encode(`\r\x1b[2K${progressBar(p)}${done ? "\n" : ""}`));
  };
}

/** Bytes in the unit that suits `scale` (default: the value itself): `999 B`, `1.0 kB`, `2.5 MB`, `1.2 GB`. */
export function formatBytes(n: number, scale = n): string {
  const units: [number, string][] = [[1e9, "GB"], [1e6, "MB"], [1e3, "kB"]];
  for (const [size, unit] of units) {
    if (scale >= size) return `${(n / size).toFixed(1)} ${unit}`;
  }
  return `${n} B`;
}
