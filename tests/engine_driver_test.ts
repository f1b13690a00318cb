import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { tf } from "../src/deps.ts";
import type { NamedTensors } from "../src/weights/mod.ts";
import {
  type ActionResult,
  checkpointConfigPath,
  configFromJson,
  listCheckpoints,
  readTrainingCheckpoint,
  runAction,
  shouldStopEarly,
  type TrainResult,
} from "../src/engine/mod.ts";
import { epochSource } from "../src/data/mod.ts";
import { FakeApplication, fakeConfigText } from "./_engine_fake_app.ts";
import { assertRejects } from "./_util.ts";

const quiet = () => {};

async function trainIn(
  dir: string,
  training: Record<string, string | number> = {},
  options: { log?: (line: string) => void; overrides?: string[] } = {},
): Promise<TrainResult> {
  const path = join(dir, "config.ini");
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(path, fakeConfigText(join(dir, "model"), training));
  const r = await runAction("train", path, options.overrides ?? [], {
    application: new FakeApplication(),
    log: options.log ?? quiet,
    handleSignals: false,
  }) as Extract<ActionResult, { action: "train" }>;
  return r.result;
}

function maxDifference(a: NamedTensors, b: NamedTensors): number {
  assertEquals([...a.keys()].sort(), [...b.keys()].sort());
  let worst = 0;
  for (const [name, t] of a) {
    const u = b.get(name)!.data;
    t.data.forEach((v, i) => worst = Math.max(worst, Math.abs(v - Number(u[i]))));
  }
  return worst;
}

Deno.test("checkpoints every save_every_n, at most max_checkpoints kept, effective config beside each", async () => {
  const dir = await Deno.makeTempDir();
  const result = await trainIn(dir, { max_iter: 7, save_every_n: 2, max_checkpoints: 2 });
  const model = join(dir, "model");
  assertEquals(result.iteration, 7);
  // 2, 4, 6 by period and 7 at the end; the two newest remain.
  assertEquals(await listCheckpoints(model), [6, 7]);
  const ckpt = await readTrainingCheckpoint(model, 7);
  assert(ckpt.tensors.has("ToyNet/conv_input_bn_relu/conv_/w"));
  assert(ckpt.tensors.has("ToyNet/conv_input_bn_relu/conv_/w/Adam/m"), "optimizer slots saved");
  const saved = configFromJson(JSON.parse(await Deno.readTextFile(checkpointConfigPath(model, 7))));
  assertEquals(saved.training.max_iter, 7);
  assertEquals(saved.system.random_seed, 11);
  assertEquals(saved, configFromJson(ckpt.config));
  assertEquals((ckpt.state as { seed: number }).seed, 11);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("resuming with starting_iter = -1 ends with the same weights as an uninterrupted run (≤ 1e-6)", async () => {
  const dir = await Deno.makeTempDir();
  const settings = {
    max_iter: 9,
    save_every_n: 4,
    optimiser: "momentum",
    lr_schedule: "step",
    lr_decay_every: 3,
    lr_decay_factor: 0.5,
    validation_every_n: 2,
  };
  const whole = await trainIn(join(dir, "a"), settings, { overrides: ["--decay", "0.01"] });
  // Interrupted at 4 (its checkpoint), then resumed to 9.
  await trainIn(join(dir, "b"), { ...settings, max_iter: 4 }, { overrides: ["--decay", "0.01"] });
  const resumed = await trainIn(join(dir, "b"), { ...settings, starting_iter: -1 }, { overrides: ["--decay", "0.01"] });
  assertEquals(resumed.iteration, 9);
  const diff = maxDifference(resumed.weights, whole.weights);
  assert(diff <= 1e-6, `max weight difference ${diff}`);
  assertEquals(resumed.validationHistory, whole.validationHistory);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("starting_iter = 0 refuses a model_dir that holds checkpoints; a missing starting_iter is named", async () => {
  const dir = await Deno.makeTempDir();
  await trainIn(dir, { max_iter: 2 });
  await assertRejects(() => trainIn(dir, { max_iter: 2 }), "already holds checkpoints (latest: iteration 2)");
  await assertRejects(() => trainIn(dir, { starting_iter: 5 }), "no checkpoint for iteration 5");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("early stopping ends training at the first validation round whose history meets the rule", async () => {
  const dir = await Deno.makeTempDir();
  const r = await trainIn(dir, { max_iter: 60, lr: 0, validation_every_n: 2, patience: 3 });
  assertEquals(r.stoppedBy, "early_stopping");
  assertEquals(r.validationHistory.length, r.iteration / 2);
  const rule = { patience: 3, mode: "mean" };
  assert(shouldStopEarly(r.validationHistory, rule));
  for (let n = 1; n < r.validationHistory.length; n++) assert(!shouldStopEarly(r.validationHistory.slice(0, n), rule));
  assertEquals((await listCheckpoints(join(dir, "model"))).at(-1), r.iteration, "a checkpoint at the stop");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("early-stopping rules on loss histories", () => {
  const opts = (mode: string) => ({ patience: 4, mode });
  assertEquals(shouldStopEarly([5, 4, 3], opts("mean")), false, "window not full");
  assertEquals(shouldStopEarly([5, 4, 3, 2], opts("mean")), false, "still improving");
  assertEquals(shouldStopEarly([3, 3, 2, 3.5], opts("mean")), true);
  assertEquals(shouldStopEarly([1, 9, 9, 2], opts("median")), false);
  assertEquals(shouldStopEarly([1, 1.1, 1, 1.3], opts("generalisation_loss")), true);
  assertEquals(shouldStopEarly([1, 1.1, 1, 1.1], opts("generalisation_loss")), false);
});

Deno.test("vars_to_freeze keeps matching variables at their initial values", async () => {
  const dir = await Deno.makeTempDir();
  const r0 = await trainIn(join(dir, "a"), { max_iter: 0 });
  const r = await trainIn(join(dir, "b"), { max_iter: 3, vars_to_freeze: "conv_input" });
  const w = "ToyNet/conv_input_bn_relu/conv_/w", out = "ToyNet/conv_output_bn/conv_/w";
  assertEquals([...r.weights.get(w)!.data], [...r0.weights.get(w)!.data]);
  assert([...r.weights.get(out)!.data].join() !== [...r0.weights.get(out)!.data].join(), "unfrozen variables train");
  await Deno.remove(dir, { recursive: true });
});

Deno.test("vars_to_restore initialises matching variables from restore_from and starts at iteration 0", async () => {
  const dir = await Deno.makeTempDir();
  const source = await trainIn(join(dir, "a"), { max_iter: 3 });
  const fresh = await trainIn(join(dir, "b"), { max_iter: 0 }, {
    overrides: ["--random_seed", "5"],
  });
  const tuned = await trainIn(join(dir, "c"), {
    max_iter: 0,
    vars_to_restore: "conv_input",
    restore_from: source.checkpoint,
  }, {
    overrides: ["--random_seed", "5"],
  });
  assertEquals(tuned.iteration, 0);
  const w = "ToyNet/conv_input_bn_relu/conv_/w", out = "ToyNet/conv_output_bn/conv_/w";
  assertEquals([...tuned.weights.get(w)!.data], [...source.weights.get(w)!.data]);
  assertEquals([...tuned.weights.get(out)!.data], [...fresh.weights.get(out)!.data]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("tensor count stays constant over 200 training iterations and across inference", async () => {
  const dir = await Deno.makeTempDir();
  const before = tf.memory().numTensors;
  const counts: number[] = [];
  await trainIn(dir, { max_iter: 200, save_every_n: 100, tensorboard_every_n: 50, validation_every_n: 40 }, {
    log: (line) => line.startsWith("iter ") && counts.push(tf.memory().numTensors),
  });
  assertEquals(counts.length, 200);
  assert(counts.slice(1).every((n) => n === counts[1]), `tensor counts ${[...new Set(counts)].join(", ")}`);
  assertEquals(tf.memory().numTensors, before, "training left tensors behind");
  const app = new FakeApplication();
  const r = await runAction("infer", join(dir, "config.ini"), [], { application: app, log: quiet });
  assertEquals(tf.memory().numTensors, before, "inference left tensors behind");
  assertEquals(r.action === "infer" && r.result.batches, 4);
  assertEquals([...app.outputs.keys()], [0, 1, 2, 3]);
  assert(app.outputs.get(0)!.length === 100);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("inference uses inference_iter's checkpoint and fails clearly without one", async () => {
  const dir = await Deno.makeTempDir();
  const path = join(dir, "config.ini");
  await Deno.writeTextFile(path, fakeConfigText(join(dir, "model")));
  await assertRejects(
    () => runAction("infer", path, [], { application: new FakeApplication(), log: quiet }),
    "train first",
  );
  await trainIn(dir, { max_iter: 4, save_every_n: 2 });
  const lines: string[] = [];
  await runAction("infer", path, ["--inference_iter", "2"], {
    application: new FakeApplication(),
    log: (l) => lines.push(l),
  });
  assert(lines.some((l) => l.includes("model.ckpt-2.safetensors")), lines.join("\n"));
  await Deno.remove(dir, { recursive: true });
});

Deno.test("TensorBoard: training and validation event files with the logged scalars and the graph", async () => {
  const dir = await Deno.makeTempDir();
  await trainIn(dir, { max_iter: 4, tensorboard_every_n: 2, validation_every_n: 2 });
  for (const [run, tags] of [["training", ["loss", "lr"]], ["validation", ["loss"]]] as const) {
    const folder = join(dir, "model", "logs", run);
    const files = [...Deno.readDirSync(folder)].map((e) => e.name);
    assertEquals(files.length, 1);
    const text = new TextDecoder("latin1").decode(Deno.readFileSync(join(folder, files[0])));
    for (const tag of tags) assert(text.includes(tag), `${run} events lack "${tag}"`);
    if (run === "training") assert(text.includes("ToyNet/conv_input_bn_relu"), "graph written");
  }
  await Deno.remove(dir, { recursive: true });
});

Deno.test("epochSource resumed from its state yields exactly what the uninterrupted source yields next", async () => {
  const make = (state?: ReturnType<ReturnType<typeof epochSource>["state"]>) =>
    epochSource<number>({
      seed: 3,
      state,
      batchSize: 2,
      makeEpoch: (epoch, seed) => [0, 1, 2].map((i) => epoch * 100 + seed * 10 + i),
      toBatch: (items) => ({ tensors: {}, windows: items as never }),
    });
  const whole = make(), seen: unknown[] = [];
  for (let i = 0; i < 5; i++) seen.push((await whole.next())!.windows);
  const first = make();
  for (let i = 0; i < 2; i++) await first.next();
  const resumed = make(first.state());
  const rest: unknown[] = [];
  for (let i = 0; i < 3; i++) rest.push((await resumed.next())!.windows);
  assertEquals(rest, seen.slice(2));
  assertEquals(seen[1], [32, 130]); // batches cross epoch boundaries
});
