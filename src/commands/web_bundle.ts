/**
 * `cli.ts bundle` (`deno task bundle`): the browser build. `deno bundle --platform browser` turns the browser entry
 * points of `web/` (the library, `web/niftyts.ts`, and the app's page and worker scripts) into ES modules in one
 * folder, sharing chunks; backends that load on demand (wasm, webgpu) become chunks fetched only when asked for.
 *
 * @module
 */
import { relative } from "node:path";
import { fileURLToPath } from "node:url";

/** The repository's root folder (bundling needs the source files on disk). */
export const REPO_ROOT = fileURLToPath(new URL("../../", import.meta.url));

/** The web folder: the app's static files and the browser entry points. */
export const WEB_ROOT = `${REPO_ROOT}web`;

/** Browser entry points, relative to the repository root; each becomes `<out>/<name>.js`. */
export const WEB_ENTRIES: readonly string[] = ["web/niftyts.ts", "web/app.ts", "web/worker.ts"];

/** Options of {@link bundleWeb}. */
export interface BundleWebOptions {
  /** Output folder (default `web/dist`). */
  readonly outDir?: string;
  /** Minify (default true). */
  readonly minify?: boolean;
}

/** One file the bundler wrote. */
export interface BundledFile {
  readonly name: string;
  readonly bytes: number;
}

/** Bundles {@link WEB_ENTRIES} into `outDir` (replacing what was there); returns the files written. */
export async function bundleWeb(options: BundleWebOptions = {}): Promise<BundledFile[]> {
  const outDir = options.outDir ?? `${WEB_ROOT}/dist`;
  await Deno.remove(outDir, { recursive: true }).catch((e) => {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
  });
  const args = ["bundle", "--platform", "browser", "--code-splitting", "--outdir", outDir];
  if (options.minify ?? true) args.push("--minify");
  const out = await new Deno.Command(Deno.execPath(), {
    args: [...args, ...WEB_ENTRIES],
    cwd: REPO_ROOT,
    stdout: "piped",
    stderr: "piped",
    env: { NO_COLOR: "1" },
  }).output();
  if (!out.success) {
    const text = new TextDecoder().decode(out.stderr).split("\n").filter((l) => /error/i.test(l)).slice(0, 5);
    throw new Error(`cannot bundle ${WEB_ENTRIES.join(", ")}: ${text.join("; ") || `deno bundle exited ${out.code}`}`);
  }
  const files: BundledFile[] = [];
  for await (const e of Deno.readDir(outDir)) {
    if (e.isFile) files.push({ name: e.name, bytes: (await Deno.stat(`${outDir}/${e.name}`)).size });
  }
  return files.sort((a, b) => a.name.localeCompare(b.name));
}

/** What the bundle is built from: every source folder a browser entry can import from, and the dependency pins. */
export const BUNDLE_INPUTS: readonly string[] = [
  "web",
  "src",
  "zoo",
  "layers",
  "networks",
  "mod.ts",
  "deno.json",
  "deno.lock",
];

/** The file beside the bundle that records the hash of its inputs. */
export const BUNDLE_STAMP = "inputs.sha256";

const INPUT_FILE = /\.(ts|json|lock)$/;

/**
 * SHA-256 over the `.ts`, `.json` and `.lock` files under `roots` (relative to `base`; paths and contents, sorted;
 * `skip`: a folder left out, the bundle's own), the Deno version and `tag`.
 */
export async function bundleInputsHash(
  { roots = BUNDLE_INPUTS, base = REPO_ROOT, skip, tag = "" }: {
    roots?: readonly string[];
    base?: string;
    skip?: string;
    tag?: string;
  } = {},
): Promise<string> {
  const files: string[] = [];
  const walk = async (path: string): Promise<void> => {
    const info = await Deno.stat(path).catch(() => undefined);
    if (!info || (skip && !relative(skip, path).startsWith(".."))) return;
    if (info.isFile) {
      if (INPUT_FILE.test(path)) files.push(path);
      return;
    }
    if (!info.isDirectory) return;
    for await (const e of Deno.readDir(path)) if (!e.name.startsWith(".")) await walk(`${path}/${e.name}`);
  };
  for (const root of roots) await walk(`${base}/${root}`.replace(/\/+/g, "/"));
  const parts: Uint8Array[] = [new TextEncoder().encode(`deno ${Deno.version.deno}\0${tag}\0`)];
  for (const f of files.sort()) {
    parts.push(new TextEncoder().encode(`${relative(base, f)}\0`), await Deno.readFile(f), new Uint8Array(1));
  }
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", all));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * {@link bundleWeb} unless `outDir` already holds a bundle of the same inputs ({@link bundleInputsHash}, recorded in
 * {@link BUNDLE_STAMP} beside it): what `cli.ts serve` does at each start. `built`: whether it bundled.
 */
export async function ensureWebBundle(
  options: BundleWebOptions & { readonly roots?: readonly string[]; readonly base?: string } = {},
): Promise<{ built: boolean; hash: string }> {
  const outDir = options.outDir ?? `${WEB_ROOT}/dist`;
  const hash = await bundleInputsHash({
    roots: options.roots,
    base: options.base,
    skip: outDir,
    tag: `minify=${options.minify ?? true}`,
  });
  const stamp = `${outDir}/${BUNDLE_STAMP}`;
  const recorded = await Deno.readTextFile(stamp).catch(() => "");
  if (recorded.trim() === hash) return { built: false, hash };
  await bundleWeb(options);
  await Deno.writeTextFile(stamp, `${hash}\n`);
  return { built: true, hash };
}

/** `cli.ts bundle`: builds and returns the lines to print (each entry and the total size). */
export async function bundleCommand(options: BundleWebOptions = {}): Promise<string[]> {
  const outDir = options.outDir ?? `${WEB_ROOT}/dist`;
  const files = await bundleWeb(options);
  const total = files.reduce((s, f) => s + f.bytes, 0);
  const entries = WEB_ENTRIES.map((e) => e.slice(e.lastIndexOf("/") + 1).replace(/\.ts$/, ".js"));
  return [
    ...files.filter((f) => entries.includes(f.name)).map((f) => `${outDir}/${f.name}: ${kib(f.bytes)} (entry)`),
    `${files.length} files, ${kib(total)} in all (shared chunks and on-demand backends included)`,
  ];
}

function kib(bytes: number): string {
  return `${(bytes / 1024).toFixed(0)} KiB`;
}
