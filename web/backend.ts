/**
 * Backend selection in a browser: `webgl` (default), `webgpu`, `wasm` or `cpu`, with NiftyTS's kernel and gradient
 * fixes installed after the switch (as `useBackend` does under Deno). The wasm binaries are fetched from
 * `wasmPaths` (default `/tfjs-backend-wasm/` at the page's origin, where `cli.ts serve` serves them).
 *
 * @module
 */
import { backendLoaders, tf } from "../src/deps.ts";
import { registerKernelFixes } from "../src/kernels/mod.ts";

/** Backends a browser can run. */
export type BrowserBackend = "webgl" | "webgpu" | "wasm" | "cpu";

/** Every browser backend, most capable first (the fallback order of {@link useBrowserBackend}). */
export const BROWSER_BACKENDS: readonly BrowserBackend[] = ["webgl", "webgpu", "wasm", "cpu"];

/** Options of {@link useBrowserBackend}. */
export interface BrowserBackendOptions {
  /** Folder (URL) of the wasm backend's `.wasm` files. */
  readonly wasmPaths?: string;
  /** Try the next backend in {@link BROWSER_BACKENDS} when the asked one cannot start (default false). */
  readonly fallback?: boolean;
}

async function start(name: BrowserBackend, options: BrowserBackendOptions): Promise<void> {
  if (tf.getBackend() === name) return;
  const loaded = await backendLoaders[name]() as { setWasmPaths?: (prefix: string) => void };
  if (name === "wasm") {
    // The threaded wasm build (picked on a cross-origin isolated page such as `cli.ts serve`'s) crashes headless
    // Chromium mid-run; the single-threaded SIMD build is the one that works everywhere.
    tf.env().set("WASM_HAS_MULTITHREAD_SUPPORT", false);
    loaded.setWasmPaths?.(options.wasmPaths ?? new URL("/tfjs-backend-wasm/", globalThis.location?.href).href);
  }
  let ok = false;
  try {
    ok = await tf.setBackend(name);
  } catch (e) {
    throw new Error(`backend "${name}" is unavailable: ${(e as Error).message}`);
  }
  if (!ok) throw new Error(`backend "${name}" is unavailable: it failed to initialize`);
  await tf.ready();
}

/**
 * Switches tfjs to `name` (or, with `fallback`, the first of it and the backends after it that starts) and returns
 * the backend now in use; one clear error when none starts.
 */
export async function useBrowserBackend(
  name: BrowserBackend = "webgl",
  options: BrowserBackendOptions = {},
): Promise<BrowserBackend> {
  if (!BROWSER_BACKENDS.includes(name)) {
    throw new Error(`unknown backend "${name}": expected one of ${BROWSER_BACKENDS.join(", ")}`);
  }
  const tries = options.fallback ? BROWSER_BACKENDS.slice(BROWSER_BACKENDS.indexOf(name)) : [name];
  const failures: string[] = [];
  for (const backend of tries) {
    try {
      await start(backend, options);
      registerKernelFixes();
      return backend;
    } catch (e) {
      failures.push((e as Error).message);
    }
  }
  throw new Error(failures.join("; "));
}

/**
 * Replaces a backend that failed (a lost WebGL context cannot be restored) by a fresh instance from its factory,
 * started on its next use; the tensors it held are gone.
 */
export function renewBrowserBackend(name: BrowserBackend): void {
  const factory = tf.findBackendFactory(name);
  if (!factory || name === "cpu") return;
  tf.removeBackend(name);
  tf.registerBackend(name, factory);
}
