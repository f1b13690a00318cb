/**
 * Shared test helpers: reading reference fixtures written by `tests/reference/*.py`, numeric comparison with
 * tolerances, and finite-difference gradients.
 *
 * @module
 */
import { tf } from "../src/deps.ts";

const FIXTURES = new URL("./fixtures/", import.meta.url);

/** Reads `tests/fixtures/<name>.json` (written by `tests/reference/<script>.py`). */
export function loadFixture<T = Record<string, unknown>>(name: string): T {
  return JSON.parse(Deno.readTextFileSync(new URL(`${name}.json`, FIXTURES)));
}

/** Options for {@link assertClose}: passes where |a − e| ≤ atol + rtol·|e| elementwise. */
export interface CloseOptions {
  rtol?: number;
  atol?: number;
  what?: string;
}

/** Asserts two numeric arrays (or tensors) agree elementwise; reports the worst element on failure. */
export function assertClose(
  actual: ArrayLike<number> | tf.Tensor,
  expected: ArrayLike<number> | tf.Tensor,
  { rtol = 1e-5, atol = 1e-6, what = "value" }: CloseOptions = {},
): void {
  const a = actual instanceof tf.Tensor ? actual.dataSync() : actual;
  const e = expected instanceof tf.Tensor ? expected.dataSync() : expected;
  if (a.length !== e.length) throw new Error(`${what}: length ${a.length} != expected ${e.length}`);
  let worst = -1, worstExcess = 0;
  for (let i = 0; i < a.length; i++) {
    const excess = Math.abs(a[i] - e[i]) - (atol + rtol * Math.abs(e[i]));
    if (!(excess <= 0) && (worst < 0 || !(excess <= worstExcess))) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    throw new Error(
      `${what}: element ${worst} is ${a[worst]}, expected ${e[worst]} (rtol ${rtol}, atol ${atol})`,
    );
  }
}

/** Largest |a − e| / max(|e|) over all elements: a scale-free error for whole tensors. */
export function relativeMaxError(actual: ArrayLike<number>, expected: ArrayLike<number>): number {
  let diff = 0, scale = 0;
  for (let i = 0; i < expected.length; i++) {
    diff = Math.max(diff, Math.abs(actual[i] - expected[i]));
    scale = Math.max(scale, Math.abs(expected[i]));
  }
  return diff / (scale || 1);
}

/**
 * Central finite-difference gradient of a scalar function at `x`, for the elements listed in `indices`
 * (all elements when omitted). Runs in float32, so use eps ≈ 1e-2 and smooth test functions.
 */
export function finiteDifference(
  f: (x: tf.Tensor) => tf.Scalar,
  x: tf.Tensor,
  { eps = 1e-2, indices }: { eps?: number; indices?: number[] } = {},
): Float64Array {
  const base = x.dataSync().slice();
  const idx = indices ?? [...base.keys()];
  const out = new Float64Array(idx.length);
  idx.forEach((i, k) => {
    const plus = base.slice(), minus = base.slice();
    plus[i] += eps;
    minus[i] -= eps;
    const fp = tf.tidy(() => f(tf.tensor(plus, x.shape)).dataSync()[0]);
    const fm = tf.tidy(() => f(tf.tensor(minus, x.shape)).dataSync()[0]);
    out[k] = (fp - fm) / (2 * eps);
  });
  return out;
}

/** Runs `fn` and asserts it leaves no tensors behind (the tfjs engine's live tensor count is unchanged). */
export async function assertNoTensorLeak(what: string, fn: () => unknown | Promise<unknown>): Promise<void> {
  const before = tf.memory().numTensors;
  await fn();
  const after = tf.memory().numTensors;
  if (after !== before) throw new Error(`${what}: tensor count went from ${before} to ${after}`);
}

/** Runs Debian's python3 on a script with arguments; returns stdout trimmed (throws with stderr on a non-zero exit). */
export async function runPython(script: string, args: readonly string[] = []): Promise<string> {
  const out = await new Deno.Command("/usr/bin/python3", {
    args: ["-c", script, ...args],
    stdout: "piped",
    stderr: "piped",
  })
    .output();
  if (out.code !== 0) throw new Error(`python3 exited ${out.code}: ${new TextDecoder().decode(out.stderr)}`);
  return new TextDecoder().decode(out.stdout).trim();
}

/** Whether Debian's reference Python stack is importable; tests that regenerate fixtures skip without it. */
export function referencePythonAvailable(modules = ["numpy", "torch"]): boolean {
  try {
    const { code } = new Deno.Command("/usr/bin/python3", {
      args: ["-c", modules.map((m) => `import ${m}`).join(";")],
      stdout: "null",
      stderr: "null",
    }).outputSync();
    return code === 0;
  } catch {
    return false;
  }
}

/** Asserts `fn` throws an Error whose message contains `fragment`; returns the error. */
export function assertThrows(fn: () => unknown, fragment: string): Error {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof Error)) throw new Error(`expected an Error, got ${String(e)}`);
    if (!e.message.includes(fragment)) throw new Error(`error message "${e.message}" lacks "${fragment}"`);
    return e;
  }
  throw new Error(`expected an error containing "${fragment}", nothing was thrown`);
}

/** Async version of {@link assertThrows}. */
export async function assertRejects(fn: () => Promise<unknown>, fragment: string): Promise<Error> {
  try {
    await fn();
  } catch (e) {
    if (!(e instanceof Error)) throw new Error(`expected an Error, got ${String(e)}`);
    if (!e.message.includes(fragment)) throw new Error(`error message "${e.message}" lacks "${fragment}"`);
    return e;
  }
  throw new Error(`expected an error containing "${fragment}", nothing was thrown`);
}
