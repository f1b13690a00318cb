import assert from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { getLoss, type LossParams } from "../src/losses/mod.ts";
import { assertClose, assertNoTensorLeak, finiteDifference, loadFixture, relativeMaxError } from "./_util.ts";

interface Case {
  shape: number[];
  logits: number[];
  labels: number[];
  weights: number[];
  dense: number[];
  losses: Record<string, { value: number; grad: number[] }>;
}
/** Asserts `fn` throws an error whose message contains `text`. */
function throwsWith(fn: () => unknown, text: string): void {
  assert.throws(fn, (e: Error) => e.message.includes(text) || assert.fail(`message "${e.message}" lacks "${text}"`));
}

const fixture = loadFixture<Record<string, Case>>("losses_segmentation");

/** Fixture key → registry name and params. */
function resolve(key: string): { name: string; params: LossParams; weighted: boolean } {
  const weighted = key.endsWith("+w");
  const base = key.replace("+w", "");
  if (base === "GDSC_simple") return { name: "GDSC", params: { type_weight: "Simple" }, weighted };
  if (base === "GDSC_uniform") return { name: "GDSC", params: { type_weight: "uniform" }, weighted };
  return { name: base, params: {}, weighted };
}

function inputs(c: Case) {
  const spatial = c.shape.slice(0, -1), nClasses = c.shape[c.shape.length - 1];
  return {
    nClasses,
    logits: tf.tensor(c.logits, c.shape),
    labels: tf.tensor(c.labels, [...spatial, 1], "int32"),
    weights: tf.tensor(c.weights, spatial),
    dense: tf.tensor(c.dense, c.shape),
  };
}

for (const [caseName, c] of Object.entries(fixture)) {
  Deno.test(`segmentation losses (${caseName}, ${c.shape}) match PyTorch values to 2e-5 and gradients to 1e-4`, () => {
    const { nClasses, logits, labels, weights, dense } = inputs(c);
    for (const [key, ref] of Object.entries(c.losses)) {
      const { name, params, weighted } = resolve(key);
      const loss = getLoss(name, { nClasses, params });
      const target = name.includes("Dense") ? dense : labels;
      const f = (x: tf.Tensor) => loss(x, target, weighted ? weights : undefined);
      const value = tf.tidy(() => f(logits).dataSync()[0]);
      assertClose([value], [ref.value], { rtol: 2e-5, atol: 2e-6, what: `${key} value` });
      const grad = tf.tidy(() => tf.grad(f)(logits).dataSync());
      const err = relativeMaxError(grad, ref.grad);
      assert(err < 1e-4, `${key} gradient relative error ${err}`);
    }
    tf.dispose([logits, labels, weights, dense]);
  });
}

Deno.test("every segmentation loss gradient agrees with finite differences (2D and 3D, weighted and not)", () => {
  for (const c of Object.values(fixture)) {
    const { nClasses, logits, labels, weights, dense } = inputs(c);
    for (const key of Object.keys(c.losses)) {
      const { name, params, weighted } = resolve(key);
      const loss = getLoss(name, { nClasses, params });
      const target = name.includes("Dense") ? dense : labels;
      const f = (x: tf.Tensor) => loss(x, target, weighted ? weights : undefined);
      const indices = [0, 7, 13, logits.size - 1];
      const numeric = finiteDifference(f, logits, { eps: 1e-2, indices });
      const analytic = tf.tidy(() => tf.grad(f)(logits).dataSync());
      // float32 cancellation in (f(x+ε) − f(x−ε)) / 2ε is about |f|·6e-8/ε: large for VolEnforcement, whose value
      // is ~1e3 with an empty class (R + ε = 1e-3). Its gradient is checked tightly against PyTorch above.
      const noise = 4 * Math.abs(tf.tidy(() => f(logits).dataSync()[0])) * 6e-8 / 1e-2;
      assertClose(indices.map((i) => analytic[i]), numeric, {
        rtol: 2e-2,
        atol: 2e-4 + noise,
        what: `${key} gradient`,
      });
    }
    tf.dispose([logits, labels, weights, dense]);
  }
});

Deno.test("segmentation losses: all-background labels, empty classes and a zero weight map give finite values", () => {
  const logits = tf.randomNormal([2, 3, 4, 3], 0, 2, "float32", 7);
  const background = tf.zeros([2, 3, 4], "int32");
  const zeroWeights = tf.zeros([2, 3, 4]);
  for (const name of ["Dice", "Dice_NS", "Tversky", "GDSC", "WGDL", "SensSpec", "VolEnforcement", "CrossEntropy"]) {
    const loss = getLoss(name, { nClasses: 3 });
    for (const x of [logits, tf.mul(logits, 0)]) {
      const v = tf.tidy(() => loss(x, background).dataSync()[0]);
      const g = tf.tidy(() => tf.grad((t) => loss(t, background))(x).dataSync());
      assert(Number.isFinite(v) && g.every(Number.isFinite), `${name} on all-background is ${v}`);
    }
  }
  // Zero weight map: every weighted loss is defined as 0 (NiftyNet divides 0 by 0 for most of them).
  for (const name of ["Dice", "Dice_NS", "GDSC", "CrossEntropy", "DicePlusXEnt", "Tversky"]) {
    const loss = getLoss(name, { nClasses: 3 });
    const v = tf.tidy(() => loss(logits, background, zeroWeights).dataSync()[0]);
    const g = tf.tidy(() => tf.grad((t) => loss(t, background, zeroWeights))(logits).dataSync());
    assert(g.every((x) => x === 0), `${name} gradient with zero weights`);
    const expected = name === "Tversky" ? 1 : name === "DicePlusXEnt" ? -1 : 0;
    assertClose([v], [expected], { atol: 1e-6, what: `${name} with zero weights (gradient all 0)` });
  }
  // WGDL on all-background: TP = 0 (M[0][0] = 0), so the loss is 1 for any error and 0/0 when perfect, which NiftyNet
  // leaves NaN and we define as 0.
  const confident = tf.tidy(() => tf.mul(tf.oneHot(tf.zeros([1, 4], "int32"), 3), 1000));
  const wgdl = getLoss("WGDL", { nClasses: 3 });
  assertClose(wgdl(confident, tf.zeros([1, 4], "int32")).dataSync(), [0], { atol: 1e-6, what: "WGDL perfect" });
  assertClose(wgdl(logits, background).dataSync(), [1], { atol: 1e-6, what: "WGDL imperfect background" });
  tf.dispose([logits, background, zeroWeights, confident]);
});

Deno.test("segmentation losses leave no tensors behind over repeated calls", async () => {
  const logits = tf.randomNormal([1, 4, 4, 2, 3], 0, 1, "float32", 3);
  const labels = tf.randomUniform([1, 4, 4, 2], 0, 3, "int32", 4);
  const weights = tf.ones([1, 4, 4, 2]);
  for (const name of ["Dice", "GDSC", "WGDL", "DicePlusXEnt", "VolEnforcement"]) {
    const loss = getLoss(name, { nClasses: 3 });
    await assertNoTensorLeak(name, () => {
      for (let i = 0; i < 3; i++) {
        const { value, grad } = tf.valueAndGrad((x: tf.Tensor) =>
          loss(x, labels, name === "WGDL" ? undefined : weights)
        )(
          logits,
        );
        tf.dispose([value, grad]);
      }
    });
  }
  tf.dispose([logits, labels, weights]);
});

Deno.test("segmentation loss over a list of predictions (multi-scale) is the mean of the per-scale losses", () => {
  const a = tf.randomNormal([1, 3, 3, 2], 0, 1, "float32", 1), b = tf.randomNormal([1, 3, 3, 2], 0, 1, "float32", 2);
  const labels = tf.randomUniform([1, 3, 3], 0, 2, "int32", 5);
  const loss = getLoss("Dice", { nClasses: 2 });
  const both = loss([a, b], labels).dataSync()[0];
  const mean = (loss(a, labels).dataSync()[0] + loss(b, labels).dataSync()[0]) / 2;
  assertClose([both], [mean], { rtol: 1e-6 });
  tf.dispose([a, b, labels]);
});

Deno.test("segmentation loss registry rejects bad names, params, shapes and weight maps clearly", () => {
  throwsWith(() => getLoss("Dcie", { nClasses: 2 }), "unknown loss_type Dcie for segmentation; did you mean Dice?");
  throwsWith(() => getLoss("GDSC", { nClasses: 2, params: { type_wieght: "Simple" } }), 'did you mean "type_weight"');
  throwsWith(
    () => getLoss("GDSC", { nClasses: 2, params: { type_weight: "Cubic" } })(tf.zeros([1, 2, 2]), tf.zeros([1, 2])),
    "Square, Simple or Uniform",
  );
  throwsWith(() => getLoss("WGDL", { nClasses: 6 })(tf.zeros([1, 2, 6]), tf.zeros([1, 2])), "at least 6x6");
  throwsWith(() => getLoss("Dice")(tf.zeros([1, 2, 2]), tf.zeros([1, 2])), "nClasses is required");
  throwsWith(
    () => getLoss("Dice", { nClasses: 3 })(tf.zeros([1, 2, 2]), tf.zeros([1, 2])),
    "should end with 3 classes",
  );
  throwsWith(() => getLoss("Dice", { nClasses: 2 })(tf.zeros([1, 4, 2]), tf.zeros([1, 3])), "ground truth shape [1,3]");
  throwsWith(
    () => getLoss("SensSpec", { nClasses: 2 })(tf.zeros([1, 4, 2]), tf.zeros([1, 4]), tf.ones([1, 4])),
    "does not take a weight map",
  );
  assert.equal(getLoss("CrossEntropy", { nClasses: 2 }).length, 3);
});

Deno.test("WGDL with a custom label distance matrix equals the hand-computed value", () => {
  // Softmax off, two voxels, M = [[0, 2], [2, 0]]; δ_n = Σ_i p_ni M[i, label_n]; TP = Σ_n M[0, label_n] (1 − δ_n).
  const loss = getLoss("WGDL", { nClasses: 2, softmax: false, params: { M: [[0, 2], [2, 0]] } });
  const probs = tf.tensor([[[0.25, 0.75], [0.5, 0.5]]]), labels = tf.tensor([[1, 0]], undefined, "int32");
  // δ = [2·0.25, 2·0.5] = [0.5, 1]; TP = 2·(1 − 0.5) + 0·(1 − 1) = 1; loss = 1 − 2 / (2 + 1.5).
  assertClose(loss(probs, labels).dataSync(), [1 - 2 / 3.5], { rtol: 1e-6 });
  tf.dispose([probs, labels]);
});

Deno.test("VolEnforcement hard counts argmax voxels and equals the hand-computed value", () => {
  // Argmax classes [0, 1, 1, 1] vs labels [0, 0, 1, 1]: S = [1, 3], R = [2, 2] (+ε = 1e-3 each).
  const logits = tf.tensor([[[2, 0], [0, 1], [0, 3], [-1, 1]]]), labels = tf.tensor([[0, 0, 1, 1]], undefined, "int32");
  const r = [2.001, 2.001], s = [1.001, 3.001];
  const expected = (Math.abs(r[0] / s[0] - s[0] / r[0]) + Math.abs(r[1] / s[1] - s[1] / r[1])) / 2;
  const loss = getLoss("VolEnforcement", { nClasses: 2, params: { hard: true } });
  assertClose(loss(logits, labels).dataSync(), [expected], { rtol: 1e-6 });
  tf.dispose([logits, labels]);
});
