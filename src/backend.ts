/**
 * Backend selection: `--backend cpu|wasm|webgpu` or env `NIFTYTS_BACKEND`, default `cpu`. Registers our kernel and
 * gradient fixes after the switch (with them all three give cpu's results, see the README's backend table); `webgl`
 * is refused (browsers only); a lost webgpu device is reported by {@link assertBackendAlive}.
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
    if (chosen === "webgl") {
      throw new Error(
        `backend "webgl" (from ${from}) runs only in a browser (it needs a WebGL2 canvas, which Deno lacks): ` +
          `use webgpu for a GPU under Deno`,
      );
    }
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
    if (backend === "webgpu") watchDevice();
  }
  registerKernelFixes();
  return backend;
}

/** Why the webgpu device was lost, once it has been (tfjs keeps using a lost device and fails obscurely). */
let deviceLost: string | undefined;
const watchedDevices = new WeakSet<object>();

function watchDevice(): void {
  const device = (tf.backend() as unknown as { device?: { lost?: Promise<{ reason?: string; message?: string }> } })
    .device;
  if (!device?.lost || watchedDevices.has(device)) return;
  watchedDevices.add(device);
  device.lost.then((info) => {
    deviceLost = [info.reason, info.message].filter((s) => s).join(": ") || "no reason given";
  });
}

/**
 * Throws one clear error when the active backend is webgpu and its GPU device has been lost (driver reset, GPU
 * removed, out of memory…); the training and inference loops call it after each step and when a step fails.
 */
export function assertBackendAlive(): void {
  if (deviceLost !== undefined && tf.getBackend() === "webgpu") {
    throw new Error(
      `backend "webgpu": the GPU device was lost (${deviceLost}); nothing after the last checkpoint is valid: ` +
        `rerun to resume from it, or use --backend cpu`,
    );
  }
}
