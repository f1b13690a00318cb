/**
 * Recycles the output arrays of the fast kernels through the cpu backend, as PyTorch's allocator does through
 * malloc: when the last tensor on an array we handed out is disposed, the array goes into a small pool, and the next
 * output of the same byte size gets it back, its pages already mapped (a fresh 16 MiB output costs 4000 page faults;
 * the zeroing is the larger part of a 64³ conv forward). Without it a disposed array lives until V8's next garbage
 * collection, beside the fresh ones.
 *
 * Soundness rests on three hooks of tfjs 4.22 (tfjs-core engine, tfjs-backend-cpu):
 * - `backend.write(values)`: every data id created on an array we handed out is linked to it, including views made
 *   without a copy (the stock Slice kernel writes a subarray of its input for contiguous slices);
 * - `backend.disposeData(dataId)`: when the backend has dropped the data id (its reference count, shared by clones,
 *   reshapes, variables and saved tensors, reached zero), the link goes; an array without links is pooled;
 * - `engine.readSync` / `engine.read` (what `dataSync`, `data`, `array` and moves between backends call): the array
 *   has left our control, so it is never pooled again. Kernels read their inputs from the backend, not the engine.
 *
 * The pool holds at most {@link POOL_BYTES} (least recently pooled dropped first); arrays are reused only for an
 * exact byte size. A recycled array holds stale values: callers overwrite every element.
 *
 * @module
 */
import { tf } from "../../deps.ts";

/** The most bytes the pool holds at once. */
export const POOL_BYTES = 64 << 20;
/** Outputs below this size are left to V8 (small arrays cost no page faults worth saving). */
const MIN_BYTES = 1 << 20;

interface Issued {
  readonly array: Float32Array;
  /** Data ids that hold this array (or a view of it). */
  readonly ids: Set<object>;
  /** Read through the engine: someone outside the kernels may hold it. */
  escaped: boolean;
}

interface CpuBackendInternals {
  write(values: unknown, shape: number[], dtype: string): object;
  disposeData(dataId: object, force?: boolean): boolean;
  data: { has(dataId: object): boolean };
}

interface EngineInternals {
  readSync(dataId: object): unknown;
  read(dataId: object): Promise<unknown>;
}

const issued = new WeakMap<ArrayBufferLike, Issued>();
const linked = new WeakMap<object, Issued>();
const hookedBackends = new WeakSet<object>();
const hookedEngines = new WeakSet<object>();

/** Pooled arrays by byte length, oldest first. */
const pool = new Map<number, Float32Array[]>();
const order: Float32Array[] = [];
let pooledBytes = 0;
const stats = { issued: 0, recycled: 0, pooled: 0, dropped: 0, escaped: 0 };

/** The pooled array on each pooled buffer. */
const pooledBuffers = new WeakMap<ArrayBufferLike, Float32Array>();

function put(values: Float32Array): void {
  if (values.byteLength > POOL_BYTES) return;
  while (pooledBytes + values.byteLength > POOL_BYTES && order.length > 0) {
    remove(order[0]);
    stats.dropped++;
  }
  const list = pool.get(values.byteLength) ?? [];
  list.push(values);
  pool.set(values.byteLength, list);
  order.push(values);
  pooledBuffers.set(values.buffer, values);
  pooledBytes += values.byteLength;
  stats.pooled++;
}

/** Takes `values` out of the pool. */
function remove(values: Float32Array): void {
  const list = pool.get(values.byteLength)!;
  list.splice(list.lastIndexOf(values), 1);
  if (list.length === 0) pool.delete(values.byteLength);
  order.splice(order.indexOf(values), 1);
  pooledBuffers.delete(values.buffer);
  pooledBytes -= values.byteLength;
}

function take(byteLength: number): Float32Array | undefined {
  const values = pool.get(byteLength)?.at(-1);
  if (values !== undefined) remove(values);
  return values;
}

/** Wraps the engine's reads once: an array read by anything but a kernel is never recycled. */
function hookEngine(engine: EngineInternals): void {
  if (hookedEngines.has(engine)) return;
  hookedEngines.add(engine);
  const escape = (dataId: object) => {
    const entry = linked.get(dataId);
    if (entry !== undefined && !entry.escaped) {
      entry.escaped = true;
      stats.escaped++;
    }
  };
  const readSync = engine.readSync.bind(engine), read = engine.read.bind(engine);
  engine.readSync = (dataId) => {
    escape(dataId);
    return readSync(dataId);
  };
  engine.read = (dataId) => {
    escape(dataId);
    return read(dataId);
  };
}

/** Wraps `backend`'s write and disposeData once (see the module doc); false when it is not a cpu-like backend. */
function hookBackend(backend: CpuBackendInternals): boolean {
  if (hookedBackends.has(backend)) return true;
  if (typeof backend.write !== "function" || typeof backend.disposeData !== "function") return false;
  if (typeof backend.data?.has !== "function") return false;
  hookedBackends.add(backend);
  const write = backend.write.bind(backend), disposeData = backend.disposeData.bind(backend);
  backend.write = (values, shape, dtype) => {
    const dataId = write(values, shape, dtype);
    if (!ArrayBuffer.isView(values)) return dataId;
    // a pooled array written again (a kernel that kept a view of an input it disposed): it leaves the pool
    const reclaimed = pooledBuffers.get(values.buffer);
    if (reclaimed !== undefined) {
      remove(reclaimed);
      issued.set(reclaimed.buffer, { array: reclaimed, ids: new Set(), escaped: false });
    }
    const entry = issued.get(values.buffer);
    if (entry !== undefined) {
      entry.ids.add(dataId);
      linked.set(dataId, entry);
    }
    return dataId;
  };
  backend.disposeData = (dataId, force) => {
    const result = disposeData(dataId, force);
    const entry = linked.get(dataId);
    if (entry !== undefined && !backend.data.has(dataId)) {
      linked.delete(dataId);
      entry.ids.delete(dataId);
      if (entry.ids.size === 0 && !entry.escaped) {
        issued.delete(entry.array.buffer);
        put(entry.array);
      }
    }
    return result;
  };
  return true;
}

/**
 * A Float32Array of `length` values for a kernel output that `backend` will hold: a recycled one of the same size
 * when the pool has one (stale values: overwrite every element), else `fresh(length)`. Arrays handed out here return
 * to the pool once no tensor holds them and nothing read them through the engine.
 */
export function pooledOutput(
  backend: tf.KernelBackend,
  length: number,
  fresh: (length: number) => Float32Array,
): Float32Array {
  const bytes = length * 4;
  if (bytes < MIN_BYTES || !hookBackend(backend as unknown as CpuBackendInternals)) return fresh(length);
  hookEngine(tf.engine() as unknown as EngineInternals);
  const recycled = take(bytes);
  const values = recycled ?? fresh(length);
  if (values.byteOffset !== 0 || values.byteLength !== values.buffer.byteLength) return values; // not ours to pool
  stats.issued++;
  if (recycled !== undefined) stats.recycled++;
  issued.set(values.buffer, { array: values, ids: new Set(), escaped: false });
  return values;
}

/** Counts since start: arrays handed out, of which recycled, pooled, dropped from a full pool, escaped. */
export function outputPoolStats(): Readonly<typeof stats> & { pooledBytes: number } {
  return { ...stats, pooledBytes };
}

/** Empties the pool (the arrays are left to the garbage collector). */
export function drainOutputPool(): void {
  order.forEach((values) => pooledBuffers.delete(values.buffer));
  pool.clear();
  order.length = 0;
  pooledBytes = 0;
}
