/**
 * Backend selection: `--backend cpu|wasm|webgpu` or env `NIFTYTS_BACKEND`, default `cpu` (the only tfjs backend
 * that trains 3D networks correctly today, see TFJS_NOTES). Registers our kernel and gradient fixes after the
 * switch.
 *
 * @module
 */
import { backendLoaders, tf } from "./deps.ts";
import { registerKernelFixes } from "./kernels/mod.ts";

/** Backends NiftyTS can run on under Deno. */
export type BackendName = "cpu" | "wasm" | "webgpu";

/** Every backend name, for CLI choices. */
export const BACKENDS: readonly BackendName[] = ["cpu", "wasm", "webgpu"];

/** The default when neither the option nor the environment names one. */
export const DEFAULT_BACKEND: BackendName = "cpu";

/** The backend asked for: explicit name, else `NIFTYTS_BACKEND`, else the default; validated. */
export function requestedBackend(name?: string): BackendName {
  const chosen = name ?? Deno.env.get("NIFTYTS_BACKEND") ?? DEFAULT_BACKEND;
  if (!BACKENDS.includes(chosen as BackendName)) {
    const from = name ? "--backend" : "NIFTYTS_BACKEND";
    throw new Error(`unknown backend "${chosen}" (from ${from}): expected one of ${BACKENDS.join(", ")}`);
  }
  return chosen as BackendName;
}

/**
 * Switches tfjs to the requested backend and returns its name; a clear error when it cannot start (e.g. webgpu
 * without an adapter).
 */
export async function useBackend(
  name?: string,
  { loaders = backendLoaders }: { loaders?: Readonly<Record<string, () => Promise<unknown>>> } = {},
): Promise<BackendName> {
  const backend = requestedBackend(name);
  if (tf.getBackend() !== backend) {
    try {
      await loaders[backend]();
    } catch (e) {
      throw new Error(`backend "${backend}" is unavailable: cannot load its package (${(e as Error).message})`);
    }
    let ok = false;
    try {
      ok = await tf.setBackend(backend);
    } catch (e) {
      throw new Error(`backend "${backend}" is unavailable: ${(e as Error).message}`);
    }
    if (!ok) {
      const hint = backend === "webgpu" ? " (no WebGPU adapter on this machine)" : "";
      throw new Error(`backend "${backend}" is unavailable: it failed to initialize${hint}`);
    }
    await tf.ready();
  }
  registerKernelFixes();
  return backend;
}
