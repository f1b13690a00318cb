/**
 * Checks shared by the application tests: the output and evaluation listings, rejected actions, and a flat tensor
 * count over a long training run.
 *
 * @module
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { tf } from "../src/deps.ts";
import { runAction } from "../src/engine/mod.ts";

async function csvRows(path: string): Promise<string[]> {
  return (await Deno.readTextFile(path)).trim().split("\n");
}

/** The rows of `<dir>/model/output/inferred.csv` (the configs' model_dir is `model`). */
export async function inferredRows(dir: string): Promise<string[]> {
  return await csvRows(join(dir, "model", "output", "inferred.csv"));
}

/** The rows of `<dir>/model/evaluation/evaluation.csv`. */
export async function evaluationRows(dir: string): Promise<string[]> {
  return await csvRows(join(dir, "model", "evaluation", "evaluation.csv"));
}

/** Fails unless `fn` rejects with an error whose message matches `pattern`. */
export async function assertRejectsMatching(fn: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert(pattern.test((e as Error).message), (e as Error).message);
    return;
  }
  throw new Error(`expected an error matching ${pattern}`);
}

/**
 * Trains `config` (which must run 200 iterations) with the command-line `overrides` and checks that the tensor
 * count at iteration 200 equals the one at iteration 20, that the variables existed meanwhile, and that everything
 * is freed at the end.
 */
export async function assertFlatTensorCount(
  config: string,
  { overrides = [], label = "tensors at 20 and 200" }: { overrides?: readonly string[]; label?: string } = {},
): Promise<void> {
  const before = tf.memory().numTensors;
  let during = -1;
  await runAction("train", config, [...overrides], {
    handleSignals: false,
    log: (line) => {
      if (line.startsWith("iter 20/")) during = tf.memory().numTensors;
      if (line.startsWith("iter 200/")) assertEquals(tf.memory().numTensors, during, label);
    },
  });
  assert(during > before, "the store's variables exist during training");
  assertEquals(tf.memory().numTensors, before);
}
