/**
 * One optimisation step of a DSL network: forward in training mode, loss plus the store's regularization, gradients
 * of the trainable (not frozen) variables, optimizer update. Everything inside `tf.tidy`, so the tensor count stays
 * flat across steps.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { applyNetwork, type Layer, type VariableStore } from "../dsl/mod.ts";
import { variableGrads } from "./variable_grads.ts";

/** Computes a scalar loss from the network output. */
export type LossFunction = (prediction: tf.Tensor) => tf.Scalar;

/**
 * Runs one step and returns the loss value (without regularization) as a scalar tensor, read nothing back (the
 * caller disposes it): what a loop that reads losses only now and then, or a benchmark, calls.
 */
export function trainStepLoss(
  network: Layer<[tf.Tensor], tf.Tensor>,
  input: tf.Tensor,
  { store, optimizer, loss }: { store: VariableStore; optimizer: tf.Optimizer; loss: LossFunction },
): tf.Scalar {
  // The first application creates the variables inside the gradient (the list is read after the forward pass): a
  // separate creation pass would hold every activation of an inference pass at once (2.9 GiB for a 64³ HighRes3DNet).
  const vars = () => {
    const v = store.trainableVariables();
    if (v.length === 0) throw new Error(`network "${network.name}" has no trainable variables to optimise`);
    return v;
  };
  return tf.tidy(() => {
    let dataLoss: tf.Scalar | undefined;
    let grads: tf.NamedTensorMap;
    try {
      ({ grads } = variableGrads(() => {
        const l = loss(applyNetwork(network, [input], { store, training: true }));
        dataLoss = tf.keep(tf.clone(l));
        return tf.add(l, store.regularizationLoss()) as tf.Scalar;
      }, vars));
    } catch (e) {
      dataLoss?.dispose();
      throw e;
    }
    optimizer.applyGradients(grads);
    return dataLoss!;
  });
}

/**
 * Runs one step and returns the loss value (without regularization), read back asynchronously (GPU backends
 * cannot, or should not, read synchronously).
 */
export async function trainStep(
  network: Layer<[tf.Tensor], tf.Tensor>,
  input: tf.Tensor,
  options: { store: VariableStore; optimizer: tf.Optimizer; loss: LossFunction },
): Promise<number> {
  const l = trainStepLoss(network, input, options);
  try {
    return (await l.data())[0];
  } finally {
    l.dispose();
  }
}

/**
 * Optimizer state under checkpoint names `<variable path>/<Optimizer>/<slot>` (`ToyNet/conv_/w/Adam/m`); the
 * step counter, when the optimizer has one, as `<Optimizer>/iter`.
 */
export async function optimizerSlots(
  optimizer: tf.Optimizer,
  store: VariableStore,
): Promise<Map<string, { dtype: "float32"; shape: number[]; data: Float32Array }>> {
  const kind = optimizer.getClassName().replace(/Optimizer$/, "");
  const byEngineName = new Map(store.records().map((r) => [r.variable.name, r.path]));
  const out = new Map<string, { dtype: "float32"; shape: number[]; data: Float32Array }>();
  for (const { name, tensor } of await optimizer.getWeights()) {
    const slash = name.lastIndexOf("/");
    const path = byEngineName.get(name.slice(0, slash));
    const key = path ? `${path}/${kind}/${name.slice(slash + 1)}` : `${kind}/${name}`;
    out.set(key, { dtype: "float32", shape: [...tensor.shape], data: Float32Array.from(await tensor.data()) });
    // Slots are the optimizer's own variables; anything else (the step counter) is a fresh tensor made for us.
    if (!(tensor instanceof tf.Variable)) tensor.dispose();
  }
  return out;
}
