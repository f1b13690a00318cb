import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, VariableStore } from "../src/dsl/mod.ts";
import { getNetwork, SimpleGAN, type SimpleGANOutput, SimulatorGAN, type SimulatorGANOutput } from "../networks/mod.ts";
import { assertThrows } from "./_util.ts";
import { assertGradients, assertReferenceCounts, REFERENCE, trainLosses } from "./_network_torch_checks.ts";

await useBackend("cpu");

/** The standard GAN losses on logits: D separates real (1) from fake (0); G wants fakes called real. */
function discriminatorLoss(o: { realLogits: tf.Tensor; fakeLogits: tf.Tensor }): tf.Scalar {
  return tf.add(
    tf.losses.sigmoidCrossEntropy(tf.onesLike(o.realLogits), o.realLogits),
    tf.losses.sigmoidCrossEntropy(tf.zerosLike(o.fakeLogits), o.fakeLogits),
  ) as tf.Scalar;
}
function generatorLoss(o: { fakeLogits: tf.Tensor }): tf.Scalar {
  return tf.losses.sigmoidCrossEntropy(tf.onesLike(o.fakeLogits), o.fakeLogits) as tf.Scalar;
}

const inScope = (prefix: string) => (path: string) => path.startsWith(prefix);

// Expected counts: tests/reference/networks_torch_counts.py, independent PyTorch re-implementations of NiftyNet's
// simple_gan (resize-conv generator 128/64/32/16 and discriminator 16/32/64/128 with shift-only batch norm, dense
// logit) and simulator_gan (noise → conv_bn → 4 deconv/conv up blocks → conv; residual stride-2 discriminator).
Deno.test("simple_gan 3D default: 871,982 trainable parameters (873,104 stored) like PyTorch; image and logits", () => {
  const ref = REFERENCE["simple_gan_3d"];
  assertReferenceCounts("simple_gan_3d", getNetwork("simple_gan").factory({ numClasses: 1 }));
  assertEquals(getNetwork("simple_gan").outputKind, "gan");
  const store = new VariableStore({ seed: 1 });
  const shapes = tf.tidy(() => {
    const [noise, images] = ref.inputs.map((s) => tf.zeros(s));
    const o = applyNetwork(new SimpleGAN(), [noise, images], { store }) as SimpleGANOutput;
    return [o.image.shape, o.realLogits.shape, o.fakeLogits.shape, o.diff.shape];
  });
  assertEquals(shapes, [...ref.outputs!, ref.outputs![0]]);
  // One discriminator, applied to the fake and then the real images (weights shared, not duplicated).
  assertEquals(store.records().filter((r) => r.path === "simple_GAN/discriminator/dense/kernel").length, 1);
  assertEquals(store.get("simple_GAN/generator/G_fcW1")!.shape, [1, 128, 10]);
  assertEquals(store.get("simple_GAN/generator/BatchNorm_6/beta")!.shape, [1]);
  assertEquals(store.has("simple_GAN/generator/BatchNorm_7/beta"), false); // no batch norm after the last conv
  store.dispose();
});

Deno.test("simulator_gan 3D (discriminator 32/64/128): parameter count like PyTorch; image and logits", () => {
  const ref = REFERENCE["simulator_gan_3d"];
  const net = new SimulatorGAN({ discriminatorChannels: [32, 64, 128] });
  assertReferenceCounts("simulator_gan_3d", net);
  const store = new VariableStore({ seed: 1 });
  const shapes = tf.tidy(() => {
    const [noise, images] = ref.inputs.map((s) => tf.zeros(s));
    const o = applyNetwork(net, [noise, images], { store }) as SimulatorGANOutput;
    return [o.fakeImage.shape, o.realLogits.shape, o.fakeLogits.shape];
  });
  assertEquals(shapes, ref.outputs);
  store.dispose();
});

Deno.test("simulator_gan 2D with conditioning: parameter count like PyTorch (conditioning joins levels 0-3 and D)", () => {
  const ref = REFERENCE["simulator_gan_2d_cond"];
  const net = new SimulatorGAN({ discriminatorChannels: [4, 8] });
  assertReferenceCounts("simulator_gan_2d_cond", net);
  const store = new VariableStore({ seed: 1 });
  const shapes = tf.tidy(() => {
    const [noise, images, cond] = ref.inputs.map((s) => tf.zeros(s));
    const o = applyNetwork(net, [noise, images, cond], { store }) as SimulatorGANOutput;
    return [o.fakeImage.shape, o.realLogits.shape, o.fakeLogits.shape];
  });
  assertEquals(shapes, ref.outputs);
  store.dispose();
});

Deno.test("the GANs reject mismatched batches, wrong ranks, bad sizes and channels before any tensor work", () => {
  const simple = new SimpleGAN();
  assertThrows(() => simple.checkInput([2, 10, 1], [2, 16, 16, 1]), "noise must be [batch, noise size]");
  assertThrows(() => simple.checkInput([3, 10], [2, 16, 16, 1]), "noise batch 3 differs from image batch 2");
  assertThrows(() => simple.checkInput([2, 10], [2, 16, 24, 1]), "divisible by 16");
  const sim = new SimulatorGAN();
  assertThrows(() => sim.checkInput([2, 10], [2, 16, 16, 2]), "must have 1 channel");
  assertThrows(() => sim.checkInput([2, 10], [2, 16, 16, 1], [2, 8, 8, 1]), "batch and spatial size");
  assertThrows(() => sim.checkInput([2, 10], [2, 16, 1]), "2D [N, H, W, 1] or 3D");
  assertThrows(() => sim.checkInput([2, 8], [2, 16, 16, 1]), "noise size 8 is too small");
  const [noise, images] = [tf.zeros([2, 20]), tf.zeros([2, 16, 8, 1])];
  const store = new VariableStore();
  const before = tf.memory().numTensors;
  assertThrows(() => applyNetwork(sim, [noise, images], { store }), "divisible by 16");
  assertEquals([store.records().length, tf.memory().numTensors], [0, before]);
  tf.dispose([noise, images]);
  store.dispose();
});

for (const kind of ["simple_GAN", "simulator_GAN"] as const) {
  const make = () =>
    kind === "simple_GAN"
      ? new SimpleGAN({ generatorChannels: [8, 4], discriminatorChannels: [4, 8] })
      : new SimulatorGAN({ discriminatorChannels: [4] });
  // Conditioning is covered by the parameter-count case; training runs without it to stay quick.
  const shapes = kind === "simple_GAN" ? [[4, 6], [4, 8, 8, 1]] : [[2, 16], [2, 16, 16, 1]];
  const outputs = (net: ReturnType<typeof make>, store: VariableStore, inputs: tf.Tensor[]) => {
    const o = applyNetwork(net as SimulatorGAN, inputs as [tf.Tensor, tf.Tensor, tf.Tensor?], {
      store,
      training: true,
    });
    return o as unknown as { realLogits: tf.Tensor; fakeLogits: tf.Tensor };
  };
  const data = () =>
    shapes.map((s, i) =>
      tf.tidy(() =>
        i === 0 ? tf.randomNormal(s, 0, 1, "float32", 51) : tf.tanh(tf.randomNormal(s, 0, 1, "float32", 52 + i))
      )
    );

  Deno.test(`${kind}: D's loss gives finite non-zero gradients to every D variable, G's loss to every G variable`, () => {
    const inputs = data();
    const net = make();
    const store = new VariableStore({ seed: 53 });
    tf.tidy(() => void outputs(net, store, inputs));
    const d = assertGradients(store, () => discriminatorLoss(outputs(net, store, inputs)), {
      select: inScope(`${kind}/discriminator/`),
    });
    const g = assertGradients(store, () => generatorLoss(outputs(net, store, inputs)), {
      select: inScope(`${kind}/generator/`),
    });
    assertEquals(d.size + g.size, store.records().filter((r) => r.trainable).length);
    store.dispose();
    tf.dispose(inputs);
  });

  Deno.test(`${kind}: 30 D steps lower D's loss, then 30 G steps against that D lower G's loss; tensor count flat`, () => {
    const inputs = data();
    const net = make();
    const store = new VariableStore({ seed: 54 });
    tf.tidy(() => void outputs(net, store, inputs));
    const dLosses = trainLosses(store, () => discriminatorLoss(outputs(net, store, inputs)), {
      select: inScope(`${kind}/discriminator/`),
      learningRate: 0.01,
    });
    assert(dLosses.at(-1)! < 0.7 * dLosses[0], `D loss ${dLosses[0]} → ${dLosses.at(-1)}`);
    const gLosses = trainLosses(store, () => generatorLoss(outputs(net, store, inputs)), {
      select: inScope(`${kind}/generator/`),
      learningRate: 0.01,
    });
    assert(gLosses.at(-1)! < 0.7 * gLosses[0], `G loss ${gLosses[0]} → ${gLosses.at(-1)}`);
    store.dispose();
    tf.dispose(inputs);
  });
}
