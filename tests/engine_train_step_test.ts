import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { VariableStore } from "../src/dsl/mod.ts";
import { optimizerSlots, trainStep } from "../src/engine/train_step.ts";
import { formatDuration, Progress } from "../src/engine/progress.ts";
import { ToyNet } from "../networks/mod.ts";

/** A noisy sphere (label 1) with a brighter core (label 2) on a dark background, one-hot labels. */
function phantomBatch(size: number) {
  const image = new Float32Array(size ** 3), labels = new Int32Array(size ** 3);
  let seed = 5;
  const noise = () => ((seed = (seed * 16807) % 2147483647) / 2147483647 - 0.5) * 0.1;
  for (let i = 0; i < size ** 3; i++) {
    const [x, y, z] = [i % size, Math.floor(i / size) % size, Math.floor(i / size ** 2)];
    const r = Math.hypot(x - size / 2, y - size / 2, z - size / 2);
    labels[i] = r < size / 6 ? 2 : r < size / 3 ? 1 : 0;
    image[i] = [0.1, 0.5, 0.9][labels[i]] + noise();
  }
  return {
    x: tf.tensor5d(image, [1, size, size, size, 1]),
    y: tf.tidy(() => tf.oneHot(tf.tensor1d(labels, "int32"), 3).reshape([1, size, size, size, 3])),
  };
}

Deno.test("30 Adam steps of ToyNet on a phantom reduce the loss and keep the tensor count flat", async () => {
  const { x, y } = phantomBatch(12);
  const net = new ToyNet({ numClasses: 3 });
  const store = new VariableStore({ seed: 1 });
  const optimizer = tf.train.adam(0.05);
  const loss = (logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
  const losses = [
    await trainStep(net, x, { store, optimizer, loss }),
    await trainStep(net, x, { store, optimizer, loss }),
  ];
  const count = tf.memory().numTensors;
  for (let i = 0; i < 28; i++) losses.push(await trainStep(net, x, { store, optimizer, loss }));
  assertEquals(tf.memory().numTensors, count, "tensor count grew across training steps");
  assert(losses.every(Number.isFinite));
  assert(losses.at(-1)! < 0.5 * losses[0], `loss ${losses[0]} → ${losses.at(-1)}`);
  tf.dispose([x, y]);
  optimizer.dispose();
  store.dispose();
});

Deno.test("frozen variables (vars_to_freeze regex) do not change; the others do; L2 decay enters the loss", async () => {
  const { x, y } = phantomBatch(6);
  const net = new ToyNet({ numClasses: 3, wRegularizer: { l2: 0.5 } });
  const store = new VariableStore({ seed: 2 });
  const optimizer = tf.train.sgd(0.1);
  const loss = (logits: tf.Tensor) => tf.losses.softmaxCrossEntropy(y, logits) as tf.Scalar;
  await trainStep(net, x, { store, optimizer, loss });
  const frozen = store.freeze("conv_input");
  assertEquals(frozen, [
    "ToyNet/conv_input_bn_relu/conv_/w",
    "ToyNet/conv_input_bn_relu/bn_/beta",
    "ToyNet/conv_input_bn_relu/bn_/gamma",
  ]);
  const snapshot = (p: string) => [...store.get(p)!.variable.dataSync()];
  const before = snapshot("ToyNet/conv_input_bn_relu/conv_/w"), beforeOut = snapshot("ToyNet/conv_output_bn/conv_/w");
  await trainStep(net, x, { store, optimizer, loss });
  assertEquals(snapshot("ToyNet/conv_input_bn_relu/conv_/w"), before);
  assert(snapshot("ToyNet/conv_output_bn/conv_/w").join() !== beforeOut.join());
  // Only the unfrozen regularized variables count: 0.5/2 · Σw² of conv_output's kernel and its bn (gamma, beta).
  const expected = [
    "ToyNet/conv_output_bn/conv_/w",
    "ToyNet/conv_output_bn/bn_/beta",
    "ToyNet/conv_output_bn/bn_/gamma",
  ]
    .reduce((s, p) => s + snapshot(p).reduce((a, v) => a + v * v, 0) * 0.25, 0);
  const reg = store.regularizationLoss();
  assert(Math.abs(reg.dataSync()[0] - expected) < 1e-4 * Math.max(1, expected), `${reg.dataSync()[0]} vs ${expected}`);
  reg.dispose();
  tf.dispose([x, y]);
  optimizer.dispose();
  store.dispose();
});

Deno.test("Adam slots are named <variable>/Adam/<slot> for checkpoints", async () => {
  const { x, y } = phantomBatch(4);
  const net = new ToyNet({ numClasses: 3 });
  const store = new VariableStore();
  const optimizer = tf.train.adam(0.01);
  await trainStep(net, x, { store, optimizer, loss: (l) => tf.losses.softmaxCrossEntropy(y, l) as tf.Scalar });
  const names = [...(await optimizerSlots(optimizer, store)).keys()];
  assert(names.includes("ToyNet/conv_input_bn_relu/conv_/w/Adam/m"), names.join());
  assert(names.includes("ToyNet/conv_output_bn/bn_/gamma/Adam/v"), names.join());
  assert(!names.some((n) => n.includes("moving_mean")), "non-trainable state has no optimizer slots");
  assert(names.includes("Adam/iter"), "the step counter is kept");
  tf.dispose([x, y]);
  optimizer.dispose();
  store.dispose();
});

Deno.test("progress line shows iteration, loss, rate and ETA", () => {
  let t = 0;
  const p = new Progress(100, { now: () => t });
  t = 10_000;
  assertEquals(p.line(20, { loss: 0.5 }), "iter 20/100  loss 0.5000  2.00 it/s  ETA 40s");
  assertEquals(formatDuration(3725), "1h02m");
  assertEquals(formatDuration(185), "3m05s");
});
