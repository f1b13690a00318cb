/**
 * `num_threads`: windows sampled and augmented on worker threads are the windows of the training thread, so the
 * weights after N iterations are the same with 1 and with 4 threads, and a run killed and resumed with 4 threads
 * ends with the weights of an uninterrupted run.
 */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import "../src/applications/mod.ts";
import { checkpointFolder, listCheckpoints, readTrainingCheckpoint, runAction } from "../src/engine/mod.ts";
import { phantomData, writeConfig } from "./_applications_data.ts";

const CLI = fileURLToPath(new URL("../cli.ts", import.meta.url));
const ITERATIONS = 8;

/** A tiny segmentation run whose windows are rotated and flipped, so sampling has work to do. */
async function configIn(dir: string): Promise<string> {
  await phantomData(dir, 4);
  const window = "(8, 8, 4)";
  return await writeConfig(dir, {
    T1: { path_to_search: "data", filename_contains: "T1", spatial_window_size: window },
    label: { path_to_search: "data", filename_contains: "label", spatial_window_size: window, interp_order: 0 },
    SYSTEM: { model_dir: "model", random_seed: 11 },
    NETWORK: { name: "toynet", batch_size: 2, whitening: "True", queue_length: 3 },
    TRAINING: {
      max_iter: ITERATIONS,
      save_every_n: 2,
      lr: 0.01,
      sample_per_volume: 2,
      rotation_angle: "(-20, 20)",
      random_flipping_axes: "0, 1",
      tensorboard_every_n: 0,
    },
    SEGMENTATION: { image: "T1", label: "label", num_classes: 2 },
  });
}

async function train(config: string, overrides: string[]): Promise<void> {
  await runAction("train", config, overrides, { log: () => {}, handleSignals: false });
}

/** Every tensor of the final checkpoint (variables and optimizer slots). */
async function finalWeights(dir: string): Promise<Map<string, Float32Array>> {
  const { tensors } = await readTrainingCheckpoint(join(dir, "model"), ITERATIONS);
  return new Map([...tensors].map(([name, t]) => [name, Float32Array.from(t.data as ArrayLike<number>)]));
}

function assertSameWeights(got: Map<string, Float32Array>, expected: Map<string, Float32Array>, what: string) {
  assertEquals([...got.keys()].sort(), [...expected.keys()].sort());
  for (const [name, t] of expected) assertEquals(got.get(name), t, `${what}: ${name}`);
}

const root = await Deno.makeTempDir();
const single = join(root, "single");
await Deno.mkdir(single);
await train(await configIn(single), ["--num_threads", "1"]);
const expected = await finalWeights(single);

Deno.test("8 iterations with num_threads 4 (rotation + flip on workers) give exactly the weights of num_threads 1", async () => {
  const dir = join(root, "four");
  await Deno.mkdir(dir);
  await train(await configIn(dir), ["--num_threads", "4"]);
  assertSameWeights(await finalWeights(dir), expected, "4 threads");
});

Deno.test("a 4-thread run killed (SIGKILL) after its first checkpoint and resumed with 4 threads ends with the uninterrupted weights", async () => {
  const dir = join(root, "killed");
  await Deno.mkdir(dir);
  const config = await configIn(dir);
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CLI, "train", "-c", config, "--num_threads", "4"],
    stdout: "null",
    stderr: "piped",
  }).spawn();
  const stderr = new Response(child.stderr).text();
  const models = checkpointFolder(join(dir, "model"));
  let killed = false;
  const watchdog = setTimeout(() => child.kill("SIGKILL"), 300_000);
  while (!killed) {
    const status = await Promise.race([
      child.status,
      new Promise<undefined>((r) => setTimeout(() => r(undefined), 50)),
    ]);
    if (status) throw new Error(`the run ended before it was killed (${status.code}): ${await stderr}`);
    if ((await listCheckpoints(join(dir, "model"))).includes(2)) {
      child.kill("SIGKILL");
      killed = true;
    }
  }
  clearTimeout(watchdog);
  assertEquals((await child.status).signal, "SIGKILL");
  await stderr;
  // Resume from iteration 2 exactly, whatever the child saved between the check and the kill.
  for (const iteration of await listCheckpoints(join(dir, "model"))) {
    if (iteration <= 2) continue;
    await Deno.remove(join(models, `model.ckpt-${iteration}.safetensors`));
    await Deno.remove(join(models, `model.ckpt-${iteration}.config.json`)).catch(() => {});
  }
  assertEquals(await listCheckpoints(join(dir, "model")), [2]);
  await train(config, ["--num_threads", "4", "--starting_iter", "-1"]);
  assert((await listCheckpoints(join(dir, "model"))).includes(ITERATIONS));
  assertSameWeights(await finalWeights(dir), expected, "killed and resumed");
});
