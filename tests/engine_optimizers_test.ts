import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { backendLoaders, tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { VariableStore } from "../src/dsl/mod.ts";
import {
  createOptimizer,
  learningRateAt,
  type OptimiserName,
  optimizerSlots,
  restoreOptimizerSlots,
  type SlotOptimizer,
} from "../src/engine/mod.ts";
import { ADAM_UPDATE } from "../src/kernels/mod.ts";
import { adamUpdateConfig } from "../src/kernels/adam.ts";
import { assertClose, assertNoTensorLeak, loadFixture } from "./_util.ts";

interface Fixture {
  shapes: number[][];
  lr: number;
  params: number[][];
  grads: number[][][];
  trajectories: Record<OptimiserName, number[][][]>;
  adam_step_schedule: number[][][];
  schedules: {
    step: { decay_every: number; factor: number; lrs: number[] };
    poly: { max_iter: number; power: number; lrs: number[] };
  };
}
const fx = loadFixture<Fixture>("engine_optimizers");
const NAMES: OptimiserName[] = ["gradientdescent", "momentum", "nesterov", "adam", "adagrad", "rmsprop"];

function makeStore(): VariableStore {
  const store = new VariableStore();
  fx.shapes.forEach((s, i) => store.getOrCreate(`net/p${i}`, s, { initializer: "zeros" }));
  store.assignFrom(
    new Map(
      fx.params.map((p, i) => [`net/p${i}`, { dtype: "float32", shape: fx.shapes[i], data: new Float32Array(p) }]),
    ),
  );
  return store;
}

function step(optimizer: SlotOptimizer, store: VariableStore, k: number): void {
  const grads: tf.NamedTensorMap = {};
  store.records().forEach((r, i) => grads[r.variable.name] = tf.tensor(fx.grads[k][i], fx.shapes[i]));
  optimizer.applyGradients(grads);
  tf.dispose(Object.values(grads));
}

function checkAgainst(store: VariableStore, expected: number[][], what: string): void {
  store.records().forEach((r, i) => assertClose(r.variable.dataSync(), expected[i], { rtol: 1e-5, atol: 1e-6, what }));
}

for (const name of NAMES) {
  Deno.test(`${name} matches torch.optim with NiftyNet's hyper-parameters over 6 steps to 1e-5`, async () => {
    await assertNoTensorLeak(name, () => {
      const store = makeStore();
      const optimizer = createOptimizer(name, fx.lr);
      for (let k = 0; k < fx.grads.length; k++) {
        step(optimizer, store, k);
        checkAgainst(store, fx.trajectories[name][k], `${name} step ${k + 1}`);
      }
      optimizer.dispose();
      store.dispose();
    });
  });

  Deno.test(`${name} state saved after 3 steps and restored into a fresh optimizer continues like torch`, async () => {
    const a = makeStore();
    const first = createOptimizer(name, fx.lr);
    for (let k = 0; k < 3; k++) step(first, a, k);
    const slots = await optimizerSlots(first, a);
    const weights = await a.toNamedTensors();
    first.dispose();
    a.dispose();
    // A new store (new engine variable names) and a new optimizer, as in a resumed process.
    const b = makeStore();
    b.assignFrom(weights);
    const second = createOptimizer(name, fx.lr);
    const { variables } = await restoreOptimizerSlots(second, b, slots);
    assertEquals(variables, 2);
    for (let k = 3; k < fx.grads.length; k++) step(second, b, k);
    checkAgainst(b, fx.trajectories[name][fx.grads.length - 1], `${name} resumed`);
    second.dispose();
    b.dispose();
  });
}

Deno.test("adam slots are named <variable path>/Adam/{m,v,step} plus Adam/iter", async () => {
  const store = makeStore();
  const optimizer = createOptimizer("adam", fx.lr);
  step(optimizer, store, 0);
  const names = [...(await optimizerSlots(optimizer, store)).keys()].sort();
  assertEquals(names, [
    "Adam/iter",
    "net/p0/Adam/m",
    "net/p0/Adam/step",
    "net/p0/Adam/v",
    "net/p1/Adam/m",
    "net/p1/Adam/step",
    "net/p1/Adam/v",
  ]);
  optimizer.dispose();
  store.dispose();
});

Deno.test("learning rate schedules match torch StepLR and PolynomialLR", () => {
  const { step, poly } = fx.schedules;
  const s = step.lrs.map((_, i) =>
    learningRateAt(i, { kind: "step", lr: fx.lr, every: step.decay_every, factor: step.factor })
  );
  assertClose(s, step.lrs, { rtol: 1e-12, what: "step" });
  const p = poly.lrs.map((_, i) =>
    learningRateAt(i, { kind: "poly", lr: fx.lr, maxIter: poly.max_iter, power: poly.power })
  );
  assertClose(p, poly.lrs, { rtol: 1e-12, atol: 1e-15, what: "poly" });
  assertEquals(learningRateAt(123, { kind: "constant", lr: 0.3 }), 0.3);
});

Deno.test("adam driven by a step schedule (lr set per update) matches torch Adam + StepLR", () => {
  const store = makeStore();
  const optimizer = createOptimizer("adam", fx.lr);
  const { step: s } = fx.schedules;
  for (let k = 0; k < fx.grads.length; k++) {
    optimizer.learningRate = learningRateAt(k, { kind: "step", lr: fx.lr, every: s.decay_every, factor: s.factor });
    step(optimizer, store, k);
  }
  checkAgainst(store, fx.adam_step_schedule.at(-1)!, "adam + step schedule");
  optimizer.dispose();
  store.dispose();
});

Deno.test("restoring slots of a mismatched shape fails naming the slot", async () => {
  const store = makeStore();
  const optimizer = createOptimizer("momentum", 0.1);
  const bad = new Map([["net/p0/Momentum/momentum", {
    dtype: "float32" as const,
    shape: [2],
    data: new Float32Array(2),
  }]]);
  let message = "";
  try {
    await restoreOptimizerSlots(optimizer, store, bad);
  } catch (e) {
    message = (e as Error).message;
  }
  assert(message.includes("momentum") && message.includes("shape [2]"), message);
  optimizer.dispose();
  store.dispose();
});

Deno.test("adam's fused kernel (cpu) gives bit-identical weights and slots to its op formula over 6 steps, lr changing", async () => {
  const run = () => {
    const store = makeStore(), optimizer = createOptimizer("adam", fx.lr);
    for (let k = 0; k < fx.grads.length; k++) {
      optimizer.learningRate = fx.lr / (k + 1);
      step(optimizer, store, k);
    }
    const values = store.records().map((r) => [...r.variable.dataSync()]);
    return { values, optimizer, store };
  };
  const fused = run();
  const probe = { store: makeStore(), optimizer: createOptimizer("adam", fx.lr) };
  const kernels = (await tf.profile(() => step(probe.optimizer, probe.store, 0))).kernels.map((k) => k.name);
  assertEquals(kernels.filter((k) => k === ADAM_UPDATE).length, fx.shapes.length);
  probe.optimizer.dispose();
  probe.store.dispose();
  const slots = await fused.optimizer.getWeights();
  const fusedSlots = slots.map((w) => [...w.tensor.dataSync()]);
  const backend = tf.getBackend();
  tf.unregisterKernel(ADAM_UPDATE, backend);
  try {
    const formula = run();
    assertEquals(fused.values, formula.values);
    const formulaSlots = (await formula.optimizer.getWeights()).map((w) => [...w.tensor.dataSync()]);
    assertEquals(fusedSlots, formulaSlots);
    formula.optimizer.dispose();
    formula.store.dispose();
  } finally {
    tf.registerKernel(adamUpdateConfig(backend));
  }
  fused.optimizer.dispose();
  fused.store.dispose();
});

Deno.test("adam's fused kernel on wasm (the browser fine-tune's backend) gives cpu's weights bit for bit", async () => {
  const run = () => {
    const store = makeStore(), optimizer = createOptimizer("adam", fx.lr);
    for (let k = 0; k < fx.grads.length; k++) step(optimizer, store, k);
    const values = store.records().map((r) => [...r.variable.dataSync()]);
    optimizer.dispose();
    store.dispose();
    return values;
  };
  const cpu = run();
  await backendLoaders.wasm();
  await useBackend("wasm");
  try {
    assertEquals(tf.getKernel(ADAM_UPDATE, "wasm") !== undefined, true);
    assertEquals(run(), cpu);
  } finally {
    await useBackend("cpu");
  }
});
