/**
 * `cli.ts serve [--port N]`: the web app at its own origin, with everything it needs from the same origin (so the
 * page never contacts another host): the static files of `web/`, the browser bundle (`/dist/`, built on start when
 * its inputs changed), the tfjs wasm backend's binaries (`/tfjs-backend-wasm/`, from the npm package) and the zoo's
 * published files (`/zoo/models/<dir>/<file>`, verified into the local cache from `NIFTYTS_ZOO_MIRROR` or the public
 * URL on first request). Only files the zoo publishes are served from `/zoo/`; nothing outside these folders is
 * reachable.
 *
 * @module
 */
import { dirname, extname, join, normalize } from "node:path";
import { fileURLToPath } from "node:url";
import { tfjsWasmEntry } from "../deps_deno.ts";
import { ZOO_ENTRIES } from "../../zoo/entries.ts";
import type { ZooFile } from "../../zoo/files.ts";
import { ensureZooFiles } from "../../zoo/cache.ts";
import { ensureWebBundle, WEB_ROOT } from "./web_bundle.ts";

/** Options of {@link startServer}. */
export interface ServeOptions {
  /** TCP port (default 8080; 0 picks a free one). */
  readonly port?: number;
  /** Interface to listen on (default 127.0.0.1: the app is for this machine). */
  readonly hostname?: string;
  /** Where the bundle is built (default `web/dist`). */
  readonly distDir?: string;
  /** Zoo mirror folder or URL (default env NIFTYTS_ZOO_MIRROR, else the public URLs). */
  readonly mirror?: string;
  /** Zoo cache folder (default env NIFTYTS_CACHE, else the platform cache). */
  readonly cacheDir?: string;
  /**
   * Build the bundle into `distDir` first unless it was built from the same inputs (default true; false serves what
   * is there).
   */
  readonly build?: boolean;
  /** Called once the bundle is ready: `built` false when the one in `distDir` was reused. */
  readonly onBundle?: (built: boolean) => void;
  /** Called with each request's path and status, e.g. for a log. */
  readonly onRequest?: (path: string, status: number) => void;
}

/** A running server. */
export interface WebServer {
  /** The page's address, e.g. `http://127.0.0.1:8080/`. */
  readonly url: string;
  /** Stops listening and waits for open requests. */
  shutdown(): Promise<void>;
  /** Resolves when the server has stopped. */
  readonly finished: Promise<void>;
}

const TYPES: Readonly<Record<string, string>> = {
  ".html": "text/html; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".json": "application/json",
  ".wasm": "application/wasm",
  ".bin": "application/octet-stream",
  ".png": "image/png",
  ".svg": "image/svg+xml",
};

/** Static files of `web/` the page may load (sources and tests are not served). */
const STATIC_TYPES = new Set([".html", ".css", ".png", ".svg"]);

/** Zoo files by their mirror path (`models/<dir>/<file>`). */
function zooFiles(): Map<string, ZooFile> {
  const files = new Map<string, ZooFile>();
  for (const entry of ZOO_ENTRIES) for (const f of entry.weights.files) files.set(f.path, f);
  return files;
}

/** `base` joined with a URL path, or undefined when the path would leave `base`. */
function inside(base: string, path: string): string | undefined {
  const rel = normalize(decodeURIComponent(path)).replace(/^\/+/, "");
  if (rel.startsWith("..") || rel.includes("\0")) return undefined;
  return join(base, rel);
}

async function fileResponse(path: string, status = 200): Promise<Response> {
  try {
    const file = await Deno.open(path);
    const type = TYPES[extname(path).toLowerCase()] ?? "application/octet-stream";
    return new Response(file.readable, { status, headers: { "content-type": type } });
  } catch (e) {
    if (e instanceof Deno.errors.NotFound || e instanceof Deno.errors.IsADirectory) {
      return new Response("not found\n", { status: 404 });
    }
    throw e;
  }
}

/**
 * Builds the bundle, then serves the app until {@link WebServer.shutdown}. Every response carries COOP/COEP (the
 * page is cross-origin isolated: it can load nothing from another origin) and `cache-control: no-cache`.
 */
export async function startServer(options: ServeOptions = {}): Promise<WebServer> {
  const distDir = options.distDir ?? join(WEB_ROOT, "dist");
  if (options.build ?? true) {
    const { built } = await ensureWebBundle({ outDir: distDir });
    options.onBundle?.(built);
  }
  const wasmDir = dirname(fileURLToPath(tfjsWasmEntry()));
  const zoo = zooFiles();

  async function route(path: string): Promise<Response> {
    if (path === "/") return await fileResponse(join(WEB_ROOT, "index.html"));
    if (path.startsWith("/dist/")) {
      const file = inside(distDir, path.slice("/dist/".length));
      if (file && extname(file) === ".js") return await fileResponse(file);
    } else if (path.startsWith("/tfjs-backend-wasm/")) {
      const file = inside(wasmDir, path.slice("/tfjs-backend-wasm/".length));
      if (file && extname(file) === ".wasm") return await fileResponse(file);
    } else if (path.startsWith("/zoo/")) {
      const file = zoo.get(decodeURIComponent(path.slice("/zoo/".length)));
      if (file) {
        const paths = await ensureZooFiles([file], { mirror: options.mirror, cacheDir: options.cacheDir });
        return await fileResponse(paths[file.path]);
      }
    } else {
      const file = inside(WEB_ROOT, path);
      if (file && STATIC_TYPES.has(extname(file).toLowerCase()) && !file.startsWith(distDir)) {
        return await fileResponse(file);
      }
    }
    return new Response("not found\n", { status: 404 });
  }

  const server = Deno.serve({
    port: options.port ?? 8080,
    hostname: options.hostname ?? "127.0.0.1",
    onListen: () => {},
  }, async (request) => {
    const path = new URL(request.url).pathname;
    let response: Response;
    try {
      response = request.method === "GET" || request.method === "HEAD"
        ? await route(path)
        : new Response("method not allowed\n", { status: 405 });
    } catch (e) {
      response = new Response(`${(e as Error).message}\n`, { status: 500 });
    }
    response.headers.set("cross-origin-opener-policy", "same-origin");
    response.headers.set("cross-origin-embedder-policy", "require-corp");
    response.headers.set("cross-origin-resource-policy", "same-origin");
    response.headers.set("cache-control", "no-cache");
    options.onRequest?.(path, response.status);
    return response;
  });
  const { hostname, port } = server.addr as Deno.NetAddr;
  return {
    url: `http://${hostname}:${port}/`,
    shutdown: () => server.shutdown(),
    finished: server.finished,
  };
}
