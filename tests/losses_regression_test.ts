import assert from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { getLoss, loadLossPlugin, lossNames, registerLoss } from "../src/losses/mod.ts";
import { assertClose, assertNoTensorLeak, finiteDifference, loadFixture, relativeMaxError } from "./_util.ts";

interface LossCase {
  shape: number[];
  pred: number[];
  target: number[];
  weights: number[];
  losses: Record<string, { value: number; grad: number[] }>;
}
interface Fixture {
  regression: LossCase;
  cosine: LossCase;
  classification: { logits: number[]; labels: number[]; value: number; grad: number[] };
  gan: {
    shape: number[];
    real: number[];
    fake: number[];
    generator: number;
    discriminator: number;
    d_grad_real: number[];
  };
  vae: {
    mu: number[];
    logvar: number[];
    data_mean: number[];
    data_logvar: number[];
    originals: number[];
    value: number;
    grad_mu: number[];
  };
}
const fixture = loadFixture<Fixture>("losses_regression");

for (const caseName of ["regression", "cosine"] as const) {
  const c = fixture[caseName];
  Deno.test(`${caseName} losses match PyTorch values to 1e-5 and gradients to 1e-4, weighted and not`, () => {
    const pred = tf.tensor(c.pred, c.shape), target = tf.tensor(c.target, c.shape);
    const weights = tf.tensor(c.weights, caseName === "cosine" ? c.shape.slice(0, -1) : c.shape);
    for (const [key, ref] of Object.entries(c.losses)) {
      const name = key.replace("+w", ""), weighted = key.endsWith("+w");
      const loss = getLoss(name, { application: "regression" });
      const f = (x: tf.Tensor) => loss(x, target, weighted ? weights : undefined);
      assertClose([tf.tidy(() => f(pred).dataSync()[0])], [ref.value], { rtol: 1e-5, atol: 1e-6, what: key });
      const grad = tf.tidy(() => tf.grad(f)(pred).dataSync());
      const err = relativeMaxError(grad, ref.grad);
      assert.ok(err < 1e-4, `${key} gradient relative error ${err}`);
      const indices = [0, 5, pred.size - 1];
      assertClose(indices.map((i) => grad[i]), finiteDifference(f, pred, { eps: 1e-3, indices }), {
        rtol: 2e-2,
        atol: 1e-3,
        what: `${key} finite differences`,
      });
    }
    tf.dispose([pred, target, weights]);
  });
}

Deno.test("regression losses: zero residual and zero weight map give 0 with finite gradients", () => {
  const x = tf.tensor([[1, 2, 3, 4]]), zeros = tf.zeros([1, 4]);
  for (const name of lossNames("regression").filter((n) => n !== "Cosine")) {
    const loss = getLoss(name, { application: "regression" });
    for (const w of [undefined, zeros]) {
      const target = w ? tf.tensor([[0, 0, 0, 0]]) : x;
      const v = tf.tidy(() => loss(x, target, w).dataSync()[0]);
      const g = tf.tidy(() => tf.grad((t) => loss(t, target, w))(x).dataSync());
      assert.equal(v, 0, `${name} ${w ? "zero weights" : "zero residual"}`);
      assert.ok(g.every((e) => e === 0), `${name} gradient ${g}`);
    }
  }
  const unitVectors = tf.tensor([[[1, 0, 0], [0, 0.6, 0.8]]]);
  const cosine = getLoss("Cosine", { application: "regression" });
  assertClose(cosine(unitVectors, unitVectors).dataSync(), [0], { atol: 1e-6 });
  assert.ok(tf.grad((t) => cosine(t, unitVectors))(unitVectors).dataSync().every(Number.isFinite));
  tf.dispose([x, zeros, unitVectors]);
});

Deno.test("classification CrossEntropy matches PyTorch cross_entropy value and gradient", () => {
  const c = fixture.classification;
  const logits = tf.tensor(c.logits, [5, 4]), labels = tf.tensor(c.labels, [5], "int32");
  const loss = getLoss("CrossEntropy", { application: "classification", nClasses: 4 });
  assertClose(loss(logits, labels).dataSync(), [c.value], { rtol: 1e-5 });
  assertClose(tf.grad((x) => loss(x, labels))(logits), c.grad, { rtol: 1e-4, atol: 1e-6 });
});

Deno.test("GAN CrossEntropy with label softness 0.1 matches PyTorch BCE-with-logits", () => {
  const c = fixture.gan;
  const real = tf.tensor(c.real, c.shape), fake = tf.tensor(c.fake, c.shape);
  const loss = getLoss("CrossEntropy", { application: "gan" });
  const { generator, discriminator } = loss(real, fake);
  assertClose(generator.dataSync(), [c.generator], { rtol: 1e-5 });
  assertClose(discriminator.dataSync(), [c.discriminator], { rtol: 1e-5 });
  assertClose(tf.grad((r) => loss(r, fake).discriminator)(real), c.d_grad_real, { rtol: 1e-4, atol: 1e-6 });
});

Deno.test("VariationalLowerBound matches the PyTorch value and its gradient w.r.t. posterior means", () => {
  const v = fixture.vae;
  const data = [v.data_mean, v.data_logvar, v.originals].map((d) => tf.tensor(d, [2, 2, 2, 1]));
  const mu = tf.tensor(v.mu, [2, 3]), logvar = tf.tensor(v.logvar, [2, 3]);
  const loss = getLoss("VariationalLowerBound", { application: "autoencoder" });
  assertClose(loss([mu, logvar, ...data]).dataSync(), [v.value], { rtol: 1e-5 });
  assertClose(tf.grad((m) => loss([m, logvar, ...data]))(mu), v.grad_mu, { rtol: 1e-4, atol: 1e-6 });
  assert.throws(() => loss([mu]), /expected 5 outputs/);
});

Deno.test("loss registry: names per application, did-you-mean, plugins, no tensor leaks", async () => {
  assert.deepEqual(lossNames("regression"), ["Cosine", "Huber", "L1Loss", "L2Loss", "MAE", "RMSE", "SmoothL1"]);
  assert.throws(
    () => getLoss("L2loss", { application: "regression" }),
    /unknown loss_type L2loss for regression; did you mean L2Loss\?/,
  );
  assert.throws(() => getLoss("Huber", { application: "regression", params: { delt: 2 } }), /did you mean "delta"/);
  registerLoss({ application: "regression", name: "Zero", create: () => () => tf.scalar(0) });
  assert.equal(getLoss("Zero", { application: "regression" })(tf.ones([1, 2]), tf.ones([1, 2])).dataSync()[0], 0);
  const pred = tf.randomNormal([2, 4, 4, 1], 0, 1, "float32", 9), target = tf.randomNormal([2, 4, 4, 1]);
  for (const name of lossNames("regression").filter((n) => n !== "Cosine" && n !== "Zero")) {
    const loss = getLoss(name, { application: "regression" });
    await assertNoTensorLeak(name, () => {
      for (let i = 0; i < 3; i++) tf.dispose(Object.values(tf.valueAndGrad((x: tf.Tensor) => loss(x, target))(pred)));
    });
  }
  tf.dispose([pred, target]);
});

Deno.test("a loss plugin module is loaded by path and selected by its loss_type name", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = `${dir}/my_losses.ts`;
    await Deno.writeTextFile(
      path,
      `export const lossDefinitions = [{ application: "segmentation", name: "MyLoss",
        create: (o) => (p) => p.sum().mul(o.nClasses) }];`,
    );
    assert.deepEqual(await loadLossPlugin(new URL(`file://${path}`)), ["MyLoss"]);
    const v = getLoss("MyLoss", { nClasses: 2 })(tf.ones([1, 3, 2]), tf.zeros([1, 3]));
    assert.equal(v.dataSync()[0], 12);
    await Deno.writeTextFile(`${dir}/bad.ts`, `export const x = 1;`);
    await assert.rejects(loadLossPlugin(new URL(`file://${dir}/bad.ts`)), /must export lossDefinitions/);
    await assert.rejects(loadLossPlugin(new URL(`file://${dir}/missing.ts`)), /cannot load loss plugin/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
