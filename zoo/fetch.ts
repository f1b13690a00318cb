/**
 * Loading a zoo entry over HTTP, for browsers (and any runtime with `fetch` and Web Crypto): each file is fetched
 * from a mirror laid out like upstream (`<base>/models/<dir>/<file>`; `cli.ts serve` serves one at `/zoo/`), its
 * size and sha256 checked before use, then the model is built by {@link zooModelFromLayers}, pre-model first.
 *
 * @module
 */
import { loadTfjsLayersModel } from "../src/weights/mod.ts";
import type { ZooFile } from "./files.ts";
import type { ZooManifest } from "./manifest.ts";
import { type ZooModel, zooModelFromLayers } from "./model.ts";
import { getZooEntry } from "./registry.ts";

/** Options of {@link fetchZooModel}. */
export interface FetchZooOptions {
  /** Called after each file arrives. */
  readonly onProgress?: (p: { file: string; received: number; total: number }) => void;
  /** Aborts the transfers. */
  readonly signal?: AbortSignal;
}

async function sha256Hex(bytes: Uint8Array<ArrayBuffer>): Promise<string> {
  const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", bytes));
  return [...digest].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** Fetches one zoo file from `base` and checks its size and sha256; errors name the URL and what was wrong. */
export async function fetchZooFile(file: ZooFile, base: string | URL, signal?: AbortSignal): Promise<Uint8Array> {
  const url = new URL(file.path, base);
  let response: Response;
  try {
    response = await fetch(url, { signal });
  } catch (e) {
    throw new Error(`cannot fetch zoo file ${url}: ${(e as Error).message}`);
  }
  if (!response.ok) {
    await response.body?.cancel();
    throw new Error(`cannot fetch zoo file ${url}: HTTP ${response.status} ${response.statusText}`.trimEnd());
  }
  const bytes = new Uint8Array(await response.arrayBuffer());
  if (bytes.length !== file.bytes) {
    throw new Error(`zoo file ${url}: ${bytes.length} bytes, expected ${file.bytes}`);
  }
  const sha = await sha256Hex(bytes);
  if (sha !== file.sha256) throw new Error(`zoo file ${url}: sha256 ${sha}, expected ${file.sha256}`);
  return bytes;
}

/**
 * Loads an entry by id (or manifest) from a mirror URL: every file of the entry verified, weights into DSL names,
 * variables created; the pre-model too when the entry names one.
 *
 * @example
 * ```ts
 * import { fetchZooModel } from "./fetch.ts";
 * const model = await fetchZooModel("gwm-light", new URL("/zoo/", location.href));
 * model.dispose();
 * ```
 */
export async function fetchZooModel(
  entry: string | ZooManifest,
  base: string | URL,
  options: FetchZooOptions = {},
): Promise<ZooModel> {
  const manifest = typeof entry === "string" ? getZooEntry(entry) : entry;
  const root = new URL(base);
  const byPath = new Map(manifest.weights.files.map((f) => [f.path, f]));
  const total = manifest.weights.files.reduce((sum, f) => sum + f.bytes, 0);
  let received = 0;
  const get = async (path: string): Promise<Uint8Array> => {
    const file = byPath.get(path);
    if (!file) throw new Error(`zoo entry "${manifest.id}": ${path} is not among its published files`);
    const bytes = await fetchZooFile(file, root, options.signal);
    received += bytes.length;
    options.onProgress?.({ file: path, received, total });
    return bytes;
  };
  const modelJson = manifest.weights.modelJson.path;
  const folder = modelJson.slice(0, modelJson.lastIndexOf("/") + 1);
  const keras = await loadTfjsLayersModel(new URL(modelJson, root).href, {
    modelJson: async () => new TextDecoder().decode(await get(modelJson)),
    shard: (path) => get(folder + path),
  });
  const preModel = manifest.input.preModel ? await fetchZooModel(manifest.input.preModel, root, options) : undefined;
  return zooModelFromLayers(manifest, keras, preModel);
}
