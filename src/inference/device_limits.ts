/**
 * What a GPU backend can hold, and how to tell that a run on it failed: the largest tensor the active tfjs backend
 * can store (webgl: the square of `WEBGL_MAX_TEXTURE_SIZE`, one float per texel; webgpu: the device's
 * `maxStorageBufferBindingSize` and `maxBufferSize`, 128 MiB under Deno), and a guard around device work that turns
 * the failures browsers report out of band (a lost WebGL context, a WebGPU out-of-memory or validation error, which
 * tfjs never throws) into a {@link DeviceFailure}.
 *
 * @module
 */
import { tf } from "../deps.ts";

/** The limits of the active backend. */
export interface DeviceLimits {
  readonly backend: string;
  /** Bytes one tensor may take (Infinity on host backends). */
  readonly maxTensorBytes: number;
  /** Where the number comes from, for messages. */
  readonly source: string;
}

/** A run on a device backend that failed; `retry`: a smaller slab may succeed on the same backend. */
export class DeviceFailure extends Error {
  readonly retry: boolean;
  constructor(message: string, retry: boolean) {
    super(message);
    this.name = "DeviceFailure";
    this.retry = retry;
  }
}

interface GpuErrorLike {
  readonly message: string;
}
interface GpuDeviceLike {
  readonly limits: { readonly maxStorageBufferBindingSize: number; readonly maxBufferSize: number };
  pushErrorScope(filter: "out-of-memory" | "validation"): void;
  popErrorScope(): Promise<GpuErrorLike | null>;
}
interface GlLike {
  isContextLost(): boolean;
}

/** The webgpu backend's device, or undefined on other backends. */
function gpuDevice(): GpuDeviceLike | undefined {
  if (tf.getBackend() !== "webgpu") return undefined;
  return (tf.backend() as unknown as { device?: GpuDeviceLike }).device;
}

/** The webgl backend's rendering context, or undefined on other backends. */
export function webglContext(): GlLike | undefined {
  if (tf.getBackend() !== "webgl") return undefined;
  return (tf.backend() as unknown as { gpgpu?: { gl?: GlLike } }).gpgpu?.gl;
}

/**
 * The active backend's limit on one tensor.
 *
 * @example
 * ```ts
 * const { maxTensorBytes, source } = deviceLimits(); // webgpu under Deno: 134217728, "webgpu maxBufferSize"
 * ```
 */
export function deviceLimits(): DeviceLimits {
  const backend = tf.getBackend();
  if (backend === "webgl") {
    const side = tf.env().getNumber("WEBGL_MAX_TEXTURE_SIZE");
    return { backend, maxTensorBytes: side * side * 4, source: `webgl MAX_TEXTURE_SIZE ${side}` };
  }
  const device = gpuDevice();
  if (device) {
    const { maxStorageBufferBindingSize: binding, maxBufferSize: buffer } = device.limits;
    return {
      backend,
      maxTensorBytes: Math.min(binding, buffer),
      source: binding <= buffer ? "webgpu maxStorageBufferBindingSize" : "webgpu maxBufferSize",
    };
  }
  return { backend, maxTensorBytes: Infinity, source: `${backend} (host memory)` };
}

const OUT_OF_MEMORY = /out of memory|oom|allocat|buffer size|too large|exceeds|texture size|maximum/i;
const CONTEXT_LOST = /context (was )?lost|context_lost|device (was )?lost|lost the device/i;

/** A thrown error as a {@link DeviceFailure} when it is one a device reports (memory, size, lost context). */
export function asDeviceFailure(e: unknown): DeviceFailure | undefined {
  if (e instanceof DeviceFailure) return e;
  const message = e instanceof Error ? e.message : String(e);
  if (CONTEXT_LOST.test(message)) return new DeviceFailure(`${tf.getBackend()}: ${message}`, false);
  if (OUT_OF_MEMORY.test(message)) return new DeviceFailure(`${tf.getBackend()}: ${message}`, true);
  return undefined;
}

/**
 * Runs `work` (device work that ends in a read) so that failures the device reports out of band throw: a lost
 * WebGL context (tfjs then reads zeros) and WebGPU out-of-memory and validation errors (tfjs never sees them).
 */
export async function guardDevice<T>(work: () => Promise<T>): Promise<T> {
  const device = gpuDevice();
  const gl = webglContext();
  const lost = () => new DeviceFailure(`${tf.getBackend()}: the WebGL context was lost`, false);
  if (gl?.isContextLost()) throw lost();
  device?.pushErrorScope("out-of-memory");
  device?.pushErrorScope("validation");
  let watch: ReturnType<typeof setInterval> | undefined;
  let outcome: { ok: true; value: T } | { ok: false; error: unknown };
  try {
    // A context lost while tfjs waits for a read leaves its fence unsignalled for ever: poll and give up.
    const watched = gl
      ? new Promise<never>((_, reject) => {
        watch = setInterval(() => gl.isContextLost() && reject(lost()), 200);
      })
      : undefined;
    const running = work();
    running.catch(() => {}); // when the watch wins, a later failure of the abandoned work is expected
    outcome = { ok: true, value: watched ? await Promise.race([running, watched]) : await running };
  } catch (e) {
    outcome = { ok: false, error: e };
  }
  clearInterval(watch);
  if (device) {
    const invalid = await device.popErrorScope();
    const memory = await device.popErrorScope();
    if (memory) throw new DeviceFailure(`webgpu: out of memory (${memory.message})`, true);
    if (invalid) throw new DeviceFailure(`webgpu: ${invalid.message.split("\n")[0]}`, true);
  }
  if (!outcome.ok) throw asDeviceFailure(outcome.error) ?? outcome.error;
  if (gl?.isContextLost()) throw lost();
  return outcome.value;
}
