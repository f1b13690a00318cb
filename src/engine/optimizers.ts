/**
 * NiftyNet's optimisers (`adam`, `gradientdescent`, `momentum`, `nesterov`, `adagrad`, `rmsprop`) with NiftyNet's
 * hyper-parameters, computing PyTorch's update rules (checked against `torch.optim` on the same gradients).
 *
 * Hand-written on tfjs's public `tf.Optimizer` base rather than using tfjs's own optimizers because: tfjs keeps slots
 * by position in the gradient list (a resumed run whose gradient list differs by one variable silently swaps
 * state), caches the SGD learning rate (schedules need it per step), and its Adagrad/RMSProp differ from both
 * PyTorch and TensorFlow in where epsilon goes. Here every slot is keyed by variable, so optimizer state saves to
 * and restores from checkpoints by name: `<variable path>/<Optimizer>/<slot>` (see {@link optimizerSlots}).
 *
 * Update rules (g gradient, t the variable's step count from 1, lr the current learning rate):
 * - gradientdescent: w −= lr·g
 * - momentum (0.9): b = 0.9·b + g; w −= lr·b. nesterov: the same b, w −= lr·(g + 0.9·b)
 * - adam (β 0.9, 0.999, ε 1e-8): m, v moving averages; w −= lr/(1−β1ᵗ) · m / (√v/√(1−β2ᵗ) + ε)
 * - adagrad (initial accumulator 0.1, ε 1e-10): a += g²; w −= lr·g/(√a + ε)
 * - rmsprop (decay 0.9, ε 1e-10): s = 0.9·s + 0.1·g²; w −= lr·g/(√s + ε). TensorFlow 1, which NiftyNet ran on,
 *   starts s at 1 and puts ε inside the root; we follow PyTorch (s starts at 0), so the first steps differ.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { NamedTensors } from "../weights/mod.ts";
import type { VariableStore } from "../dsl/mod.ts";
import type { OptimiserName } from "./config/keys.ts";
import { ADAM_UPDATE, type AdamStep, backendHasKernel } from "../kernels/mod.ts";

export { optimizerSlots } from "./train_step.ts";

type Slots = Record<string, tf.Variable>;

/** A named tensor as tfjs optimizers exchange weights (`{ name, tensor }`). */
export interface OptimizerWeight {
  name: string;
  tensor: tf.Tensor;
}

/** Base of the NiftyTS optimisers: per-variable named slots and step counts, a settable learning rate. */
export abstract class SlotOptimizer extends tf.Optimizer {
  /** Learning rate of the next update; the driver sets it each iteration from the schedule. */
  learningRate: number;
  readonly #slots = new Map<string, Slots>();
  readonly #steps = new Map<string, number>();

  constructor(learningRate: number) {
    super();
    if (!(learningRate >= 0)) throw new Error(`learning rate must be a non-negative number, got ${learningRate}`);
    this.learningRate = learningRate;
  }

  /** Slot names and their initial value. */
  protected abstract get slotSpecs(): Readonly<Record<string, number>>;

  /** The new value of `w` (slots are assigned here); runs inside `tf.tidy`. */
  protected abstract update(w: tf.Tensor, g: tf.Tensor, slots: Slots, step: number, lr: number): tf.Tensor;

  /** Updates each variable named in `grads` (tfjs engine names, as `tf.variableGrads` returns them). */
  applyGradients(grads: tf.NamedTensorMap | OptimizerWeight[]): void {
    const list: [string, tf.Tensor][] = Array.isArray(grads)
      ? grads.map((g) => [g.name, g.tensor])
      : Object.entries(grads);
    for (const [name, grad] of list) {
      if (grad == null) continue;
      const variable = tf.engine().registeredVariables[name];
      if (!variable) throw new Error(`optimizer: no variable "${name}" for the gradient`);
      const slots = this.#slotsFor(name, variable.shape);
      const step = (this.#steps.get(name) ?? 0) + 1;
      this.#steps.set(name, step);
      tf.tidy(() => variable.assign(this.update(variable, grad, slots, step, this.learningRate)));
    }
    this.incrementIterations();
  }

  #slotsFor(name: string, shape: number[]): Slots {
    let slots = this.#slots.get(name);
    if (!slots) {
      slots = {};
      for (const [slot, init] of Object.entries(this.slotSpecs)) {
        const initial = tf.fill(shape, init);
        slots[slot] = tf.variable(initial, false);
        initial.dispose();
      }
      this.#slots.set(name, slots);
    }
    return slots;
  }

  /** Slots as `<engine variable name>/<slot>`, step counts as `<engine variable name>/step`, and `iter`. */
  override async getWeights(): Promise<OptimizerWeight[]> {
    const out: OptimizerWeight[] = [await this.saveIterations()];
    for (const [name, slots] of this.#slots) {
      for (const [slot, v] of Object.entries(slots)) out.push({ name: `${name}/${slot}`, tensor: v });
      out.push({ name: `${name}/step`, tensor: tf.scalar(this.#steps.get(name) ?? 0) });
    }
    return out;
  }

  /** Sets state from {@link getWeights}-style entries (matched by name, not position). */
  override async setWeights(weights: OptimizerWeight[]): Promise<void> {
    for (const { name, tensor } of weights) {
      if (name === "iter") {
        this.iterations_ = (await tensor.data())[0];
        continue;
      }
      const slash = name.lastIndexOf("/");
      const variableName = name.slice(0, slash), slot = name.slice(slash + 1);
      const variable = tf.engine().registeredVariables[variableName];
      if (!variable) throw new Error(`optimizer state "${name}": no variable "${variableName}"`);
      if (slot === "step") {
        this.#steps.set(variableName, (await tensor.data())[0]);
        continue;
      }
      if (!(slot in this.slotSpecs)) {
        throw new Error(`optimizer state "${name}": ${this.getClassName()} has no slot "${slot}"`);
      }
      if (tensor.shape.join() !== variable.shape.join()) {
        throw new Error(`optimizer state "${name}" has shape [${tensor.shape}], its variable [${variable.shape}]`);
      }
      this.#slotsFor(variableName, variable.shape)[slot].assign(tensor);
    }
  }

  /** Frees every slot. */
  override dispose(): void {
    for (const slots of this.#slots.values()) for (const v of Object.values(slots)) v.dispose();
    this.#slots.clear();
    this.#steps.clear();
  }

  /** tfjs serialization hook (the learning rate). */
  getConfig(): tf.serialization.ConfigDict {
    return { learningRate: this.learningRate };
  }
}

/** `gradientdescent`. */
export class GradientDescentOptimizer extends SlotOptimizer {
  /** Name used in checkpoints. */
  static className = "GradientDescent";
  protected get slotSpecs() {
    return {};
  }
  protected update(w: tf.Tensor, g: tf.Tensor, _s: Slots, _t: number, lr: number): tf.Tensor {
    return tf.sub(w, tf.mul(lr, g));
  }
}

/** `momentum` (0.9) and, with `nesterov`, `nesterov`. */
export class MomentumOptimizer extends SlotOptimizer {
  /** Name used in checkpoints (TensorFlow's, for both variants). */
  static className = "Momentum";
  constructor(learningRate: number, readonly momentum = 0.9, readonly nesterov = false) {
    super(learningRate);
  }
  protected get slotSpecs() {
    return { momentum: 0 };
  }
  protected update(w: tf.Tensor, g: tf.Tensor, s: Slots, _t: number, lr: number): tf.Tensor {
    const b = tf.add(tf.mul(this.momentum, s.momentum), g);
    s.momentum.assign(b);
    return tf.sub(w, tf.mul(lr, this.nesterov ? tf.add(g, tf.mul(this.momentum, b)) : b));
  }
}

/** `adam` (β1 0.9, β2 0.999, ε 1e-8). */
export class AdamOptimizer extends SlotOptimizer {
  /** Name used in checkpoints. */
  static className = "Adam";
  constructor(learningRate: number, readonly beta1 = 0.9, readonly beta2 = 0.999, readonly epsilon = 1e-8) {
    super(learningRate);
  }
  protected get slotSpecs() {
    return { m: 0, v: 0 };
  }
  protected update(w: tf.Tensor, g: tf.Tensor, s: Slots, t: number, lr: number): tf.Tensor {
    if (w.dtype === "float32" && g.dtype === "float32" && backendHasKernel(ADAM_UPDATE)) {
      // cpu, wasm: one kernel, bit-identical to the formula below
      const step = { learningRate: lr, beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, step: t };
      const [w1, m1, v1] = tf.engine().runKernel(
        ADAM_UPDATE,
        { w, g, m: s.m, v: s.v },
        step satisfies AdamStep,
      ) as tf.Tensor[];
      s.m.assign(m1);
      s.v.assign(v1);
      return w1;
    }
    const m = tf.add(tf.mul(this.beta1, s.m), tf.mul(1 - this.beta1, g));
    const v = tf.add(tf.mul(this.beta2, s.v), tf.mul(1 - this.beta2, tf.square(g)));
    s.m.assign(m);
    s.v.assign(v);
    const bc1 = 1 - this.beta1 ** t, bc2 = 1 - this.beta2 ** t;
    const denom = tf.add(tf.div(tf.sqrt(v), Math.sqrt(bc2)), this.epsilon);
    return tf.sub(w, tf.mul(lr / bc1, tf.div(m, denom)));
  }
}

/** `adagrad` (initial accumulator 0.1, ε 1e-10). */
export class AdagradOptimizer extends SlotOptimizer {
  /** Name used in checkpoints. */
  static className = "Adagrad";
  constructor(learningRate: number, readonly initialAccumulator = 0.1, readonly epsilon = 1e-10) {
    super(learningRate);
  }
  protected get slotSpecs() {
    return { accumulator: this.initialAccumulator };
  }
  protected update(w: tf.Tensor, g: tf.Tensor, s: Slots, _t: number, lr: number): tf.Tensor {
    const a = tf.add(s.accumulator, tf.square(g));
    s.accumulator.assign(a);
    return tf.sub(w, tf.mul(lr, tf.div(g, tf.add(tf.sqrt(a), this.epsilon))));
  }
}

/** `rmsprop` (decay 0.9, ε 1e-10, no momentum). */
export class RMSPropOptimizer extends SlotOptimizer {
  /** Name used in checkpoints. */
  static className = "RMSProp";
  constructor(learningRate: number, readonly decay = 0.9, readonly epsilon = 1e-10) {
    super(learningRate);
  }
  protected get slotSpecs() {
    return { rms: 0 };
  }
  protected update(w: tf.Tensor, g: tf.Tensor, s: Slots, _t: number, lr: number): tf.Tensor {
    const r = tf.add(tf.mul(this.decay, s.rms), tf.mul(1 - this.decay, tf.square(g)));
    s.rms.assign(r);
    return tf.sub(w, tf.mul(lr, tf.div(g, tf.add(tf.sqrt(r), this.epsilon))));
  }
}

/**
 * The optimiser a config names, with NiftyNet's hyper-parameters.
 *
 * @example
 * ```ts
 * import { createOptimizer } from "./optimizers.ts";
 * const opt = createOptimizer("adam", 1e-3);
 * opt.learningRate = 5e-4; // e.g. from a schedule
 * ```
 */
export function createOptimizer(name: OptimiserName, learningRate: number): SlotOptimizer {
  switch (name) {
    case "adam":
      return new AdamOptimizer(learningRate);
    case "gradientdescent":
      return new GradientDescentOptimizer(learningRate);
    case "momentum":
      return new MomentumOptimizer(learningRate);
    case "nesterov":
      return new MomentumOptimizer(learningRate, 0.9, true);
    case "adagrad":
      return new AdagradOptimizer(learningRate);
    case "rmsprop":
      return new RMSPropOptimizer(learningRate);
  }
  throw new Error(`unknown optimiser "${name}"`);
}

/**
 * Restores optimizer state saved by {@link optimizerSlots} (`<path>/<Optimizer>/<slot>`, `<Optimizer>/iter`) into
 * `optimizer` for the variables of `store`. Tensors of another optimizer kind are ignored (a run may switch
 * optimisers); returns how many variables got their slots back.
 */
export async function restoreOptimizerSlots(
  optimizer: SlotOptimizer,
  store: VariableStore,
  tensors: NamedTensors,
): Promise<{ variables: number }> {
  const kind = optimizer.getClassName();
  const weights: OptimizerWeight[] = [];
  const restored = new Set<string>();
  try {
    const iter = tensors.get(`${kind}/iter`);
    if (iter) weights.push({ name: "iter", tensor: tf.scalar(Number(iter.data[0])) });
    for (const record of store.records()) {
      const prefix = `${record.path}/${kind}/`;
      for (const [name, t] of tensors) {
        if (!name.startsWith(prefix) || name.slice(prefix.length).includes("/")) continue;
        const slot = name.slice(prefix.length);
        weights.push({
          name: `${record.variable.name}/${slot}`,
          tensor: tf.tensor(Float32Array.from(t.data as ArrayLike<number>), [...t.shape]),
        });
        restored.add(record.path);
      }
    }
    await optimizer.setWeights(weights);
  } finally {
    for (const w of weights) w.tensor.dispose();
  }
  return { variables: restored.size };
}
