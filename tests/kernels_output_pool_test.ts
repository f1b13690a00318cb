/**
 * The output pool of the fast kernels (src/kernels/fast/_output_pool.ts): a disposed conv output's array is handed to
 * the next output of its size, and never while a tensor (clone, reshape, slice view, variable, kept tidy result) still
 * holds it or after it was read through `dataSync`/`data`.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { registerFastCpuKernels } from "../src/kernels/fast/mod.ts";
import { drainOutputPool, outputPoolStats, POOL_BYTES } from "../src/kernels/fast/_output_pool.ts";
import { assertNoTensorLeak } from "./_util.ts";

const ignore = !registerFastCpuKernels().active;
await tf.setBackend("cpu");

/** 1 MiB output: [1, 32, 32, 32, 8]. */
const x = tf.randomNormal([1, 32, 32, 32, 4], 0, 1, "float32", 1);
const w1 = tf.randomNormal([3, 3, 3, 4, 8], 0, 1, "float32", 2);
const w2 = tf.randomNormal([3, 3, 3, 4, 8], 0, 1, "float32", 3);
const conv = (w: tf.Tensor) => tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 1, "same");
/** The array the backend holds for `t`, read the way kernels read it (not an escape). */
const held = (t: tf.Tensor) => tf.backend().readSync(t.dataId) as Float32Array;
/** A copy of `t`'s values, read through the backend (not an escape). */
const copy = (t: tf.Tensor) => Float32Array.from(held(t));

let expected1: Float32Array, expected2: Float32Array;
if (!ignore) {
  const [a, b] = [conv(w1), conv(w2)];
  [expected1, expected2] = [copy(a), copy(b)];
  tf.dispose([a, b]);
}

function pooledTest(name: string, fn: () => void): void {
  Deno.test({
    name,
    ignore,
    fn: () => {
      drainOutputPool();
      fn();
      drainOutputPool();
    },
  });
}

pooledTest("output pool: a disposed conv output's array serves the next output of its size, values right", () => {
  const a = conv(w1), array = held(a);
  a.dispose();
  const before = outputPoolStats().recycled;
  const b = conv(w2);
  assert(held(b) === array, "the array was not recycled");
  assertEquals(outputPoolStats().recycled, before + 1);
  assertEquals(copy(b), expected2);
  b.dispose();
});

pooledTest("output pool: a clone (shared data id) keeps the array out of the pool until it is disposed", () => {
  const a = conv(w1), array = held(a), c = tf.clone(a);
  a.dispose();
  const b = conv(w2);
  assert(held(b) !== array);
  assertEquals(copy(c), expected1);
  c.dispose();
  const d = conv(w2);
  assert(held(d) === array || held(b) === array, "the array came back after the clone went");
  tf.dispose([b, d]);
});

pooledTest("output pool: reshape views and contiguous slices (subarrays, new data ids) keep the array", () => {
  const a = conv(w1), array = held(a);
  const r = a.reshape([32, 32 * 32 * 8]);
  const s = tf.slice(r, [0, 0], [16, 32 * 32 * 8]); // the stock kernel's subarray of the same buffer
  assert(held(s).buffer === array.buffer, "the slice should be a view (else this test proves nothing)");
  a.dispose();
  r.dispose();
  const b = conv(w2);
  assert(held(b) !== array);
  assertEquals(copy(s), expected1.subarray(0, 16 * 32 * 32 * 8));
  s.dispose();
  const d = conv(w2);
  assert(held(d) === array);
  tf.dispose([b, d]);
});

pooledTest("output pool: dataSync and data() take an array out of recycling for good", async () => {
  const a = conv(w1), read = a.dataSync() as Float32Array;
  const e = conv(w1), readAsync = await e.data() as Float32Array;
  tf.dispose([a, e]);
  const outs = [conv(w2), conv(w2), conv(w2)];
  assert(outs.every((o) => held(o) !== read && held(o) !== readAsync));
  assertEquals(read, expected1);
  assertEquals(readAsync, expected1);
  tf.dispose(outs);
});

pooledTest("output pool: tidy-kept results and variables keep their arrays; the tidy's intermediates recycle", () => {
  let inner: Float32Array | undefined;
  const kept = tf.tidy(() => {
    const t = conv(w1);
    inner = held(t);
    const k = tf.keep(conv(w1));
    return [k, tf.relu(t)];
  });
  const v = tf.variable(kept[0]);
  kept[0].dispose();
  const b = conv(w2);
  assert(held(b) === inner, "the tidy's intermediate was not recycled");
  assert(held(b) !== held(v));
  assertEquals(copy(v), expected1);
  const array = held(v);
  v.dispose();
  const d = conv(w2);
  assert(held(d) === array);
  assertEquals(copy(d), expected2);
  tf.dispose([...kept, b, d]);
});

pooledTest(
  "output pool: an array written again after it was pooled (a kept view of a disposed input) leaves the pool",
  () => {
    const a = conv(w1), array = held(a);
    a.dispose(); // pooled now
    const be = tf.backend();
    const view = tf.engine().makeTensorFromDataId(be.write(array.subarray(0, 8), [8], "float32"), [8], "float32");
    const b = conv(w2);
    assert(held(b) !== array);
    view.dispose();
    const d = conv(w2);
    assert(held(d) === array);
    tf.dispose([b, d]);
  },
);

pooledTest("output pool: bounded in bytes, and the tensor count stays flat", async () => {
  // conv outputs of 1, 2, …, 12 MiB (more than the pool holds together), each disposed at once
  const sizes = Array.from({ length: 12 }, (_, i) => i + 1);
  await assertNoTensorLeak("outputs of many sizes", () => {
    for (const n of sizes) {
      const xi = tf.zeros([1, n * 8, 32, 32, 1]);
      const wi = tf.zeros([1, 1, 1, 1, 32]);
      tf.dispose([tf.conv3d(xi as tf.Tensor5D, wi as tf.Tensor5D, 1, "same"), xi, wi]);
      assert(outputPoolStats().pooledBytes <= POOL_BYTES, `pool holds ${outputPoolStats().pooledBytes} bytes`);
    }
  });
  assert(outputPoolStats().dropped > 0, "the pool never had to drop an array");
});

Deno.test({ name: "output pool test inputs disposed", ignore, fn: () => tf.dispose([x, w1, w2]) });
