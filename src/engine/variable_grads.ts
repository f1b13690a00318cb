/**
 * `tf.variableGrads` with the memory profile of PyTorch's autograd: each tape node's saved tensors and the gradient
 * of its outputs are released as soon as the backward pass has gone through that node.
 *
 * tfjs 4.22's `engine.gradients` keeps every gradient it computes (one per intermediate tensor of the forward
 * pass) and every saved tensor until the whole backward pass ends, so the peak of a training step is about twice
 * the forward pass's saved tensors (5.5 GiB for a 64³ HighRes3DNet step, PyTorch 2.1 GiB). This walks the same tape
 * with the same gradient functions in the same order — the values are bit-identical — but disposes what the rest of
 * the walk cannot need. It uses the engine's tape (`startTape`/`endTape`, `state.activeTape`: tfjs-core 4.22
 * internals, the version `src/deps.ts` pins) and falls back to `tf.variableGrads` inside another gradient
 * computation (higher-order gradients) or where those internals are missing.
 *
 * @module
 */
import { tf } from "../deps.ts";

/** One recorded op, as tfjs-core 4.22's tape stores it. */
interface TapeNode {
  id: number;
  kernelName: string;
  inputs: Record<string, tf.Tensor>;
  outputs: tf.Tensor[];
  gradient?: (dys: Array<tf.Tensor | null>) => Record<string, () => tf.Tensor>;
  saved?: tf.Tensor[];
}

/** The engine members used here (tfjs-core 4.22). */
interface EngineInternals {
  state: { activeTape: TapeNode[] | null; gradientDepth: number };
  startTape(): void;
  endTape(): void;
  scopedRun<T>(start: () => void, end: () => void, f: () => T): T;
  tidy<T extends tf.TensorContainer>(name: string, f: () => T): T;
  tidy<T extends tf.TensorContainer>(f: () => T): T;
}

function internals(): EngineInternals | null {
  const e = tf.engine() as unknown as Partial<EngineInternals>;
  // `state.activeTape` is only created by the first `startTape` of the process: do not ask for it here
  const ok = typeof e.startTape === "function" && typeof e.endTape === "function" &&
    typeof e.scopedRun === "function" && e.state !== undefined && typeof e.state.gradientDepth === "number";
  return ok ? e as EngineInternals : null;
}

/** The nodes of `tape` on a path from one of `xs` to `y`, inputs pruned to those that depend on `xs` (as tfjs). */
function nodesFromXsToY(tape: readonly TapeNode[], xs: readonly tf.Tensor[], y: tf.Tensor): TapeNode[] {
  const fromX = new Set<number>(xs.map((x) => x.id));
  const nodesFromX = new Set<number>();
  for (const node of tape) {
    if (Object.values(node.inputs).some((t) => fromX.has(t.id))) {
      node.outputs.forEach((o) => fromX.add(o.id));
      nodesFromX.add(node.id);
    }
  }
  const toY = new Set<number>([y.id]);
  const nodesToY = new Set<number>();
  for (let i = tape.length - 1; i >= 0; i--) {
    const node = tape[i];
    if (node.outputs.some((o) => toY.has(o.id))) {
      Object.values(node.inputs).forEach((t) => toY.add(t.id));
      nodesToY.add(node.id);
    }
  }
  return tape.filter((n) => nodesFromX.has(n.id) && nodesToY.has(n.id)).map((n) => ({
    ...n,
    inputs: Object.fromEntries(Object.entries(n.inputs).filter(([, t]) => fromX.has(t.id))),
  }));
}

/** The trainable variables of `vars`; throws when there are none. */
function trainable(vars: readonly tf.Variable[]): tf.Variable[] {
  const xs = vars.filter((v) => v.trainable);
  if (xs.length === 0) throw new Error("variableGrads: none of the variables is trainable");
  return xs;
}

/**
 * The accumulated gradient of each tensor id. A gradient function may hand back its `dy` unchanged (for several
 * inputs even), so one tensor can be the gradient of several ids: it is disposed when the last of them lets go.
 */
class GradientMap {
  readonly #byId = new Map<number, tf.Tensor>();
  readonly #refs = new Map<tf.Tensor, number>();

  get(id: number): tf.Tensor | undefined {
    return this.#byId.get(id);
  }

  set(id: number, t: tf.Tensor): void {
    const old = this.#byId.get(id);
    this.#byId.set(id, t);
    this.#refs.set(t, (this.#refs.get(t) ?? 0) + 1);
    if (old !== undefined) this.#unref(old, false);
  }

  delete(id: number): void {
    const t = this.#byId.get(id);
    if (t === undefined) return;
    this.#byId.delete(id);
    this.#unref(t, true);
  }

  /** Disposes the two summands of an accumulation where nothing else holds them. */
  release(...summands: tf.Tensor[]): void {
    for (const t of summands) if (!this.#refs.has(t)) t.dispose();
  }

  #unref(t: tf.Tensor, dispose: boolean): void {
    const n = (this.#refs.get(t) ?? 1) - 1;
    if (n > 0) this.#refs.set(t, n);
    else {
      this.#refs.delete(t);
      if (dispose) t.dispose();
    }
  }
}

/**
 * Gradients of the scalar `f()` with respect to the trainable variables in `varList`, as `tf.variableGrads`
 * (same values, same `{ value, grads }` keyed by variable name), releasing each intermediate gradient and saved
 * tensor once the backward pass no longer needs it.
 *
 * `varList` may be a function: it is then called after `f` has run, so variables that `f` creates (a network's first
 * application) are differentiated too, and no separate creation pass is needed. Inside another gradient computation
 * (where this falls back to `tf.variableGrads`) it is called before `f`.
 */
export function variableGrads(
  f: () => tf.Scalar,
  varList: readonly tf.Variable[] | (() => readonly tf.Variable[]),
): { value: tf.Scalar; grads: tf.NamedTensorMap } {
  const list = () => (typeof varList === "function" ? varList() : varList);
  const engine = internals();
  if (engine === null || engine.state.gradientDepth > 0) return tf.variableGrads(f, [...list()]);
  if (typeof varList !== "function") trainable(varList);
  const y = engine.scopedRun(() => engine.startTape(), () => engine.endTape(), () => engine.tidy("forward", f));
  const tape = engine.state.activeTape ?? [];
  let xs: tf.Variable[];
  try {
    if (!(y instanceof tf.Tensor) || y.rank !== 0) {
      throw new Error(`variableGrads: f must return a scalar tensor, got ${y instanceof tf.Tensor ? y.shape : y}`);
    }
    xs = trainable(list());
  } catch (e) {
    tape.forEach((node) => node.saved?.forEach((t) => t.dispose()));
    engine.state.activeTape = null;
    tf.dispose(y);
    throw e;
  }
  const names: string[] = [];
  const connected = engine.tidy("backward", () => {
    const grad = new GradientMap();
    grad.set(y.id, tf.onesLike(y));
    const nodes = nodesFromXsToY(tape, xs, y);
    for (let i = nodes.length - 1; i >= 0; i--) {
      const node = nodes[i];
      if (node.gradient === undefined) throw new Error(`cannot compute gradient: no gradient for ${node.kernelName}`);
      const inputGradients = node.gradient(node.outputs.map((o) => grad.get(o.id) ?? null));
      for (const [name, x] of Object.entries(node.inputs)) {
        if (!(name in inputGradients)) throw new Error(`cannot backprop through input ${name} of ${node.kernelName}`);
        const dx = engine.tidy(() => inputGradients[name]());
        if (dx.dtype !== "float32") {
          throw new Error(`the gradient of input ${name} of ${node.kernelName} must be float32, got ${dx.dtype}`);
        }
        if (!tf.util.arraysEqual(dx.shape, x.shape)) {
          throw new Error(
            `the gradient of input ${name} of ${node.kernelName} has shape [${dx.shape}], expected [${x.shape}]`,
          );
        }
        const current = grad.get(x.id);
        grad.set(x.id, current === undefined ? dx : tf.add(current, dx));
        if (current !== undefined) grad.release(current, dx);
      }
      // The tape is walked in reverse creation order: this node was the last user of its outputs' gradients and of
      // its saved tensors (each node saves clones of its own).
      for (const o of node.outputs) grad.delete(o.id);
      node.saved?.forEach((t) => t.dispose());
    }
    const found = xs.filter((x) => grad.get(x.id) !== undefined);
    names.push(...found.map((x) => x.name));
    return found.map((x) => grad.get(x.id)!);
  });
  // what tfjs does at the end of a first-order gradient: the saved tensors of every recorded node go
  tape.forEach((node) => node.saved?.forEach((t) => t.dispose()));
  engine.state.activeTape = null;
  const grads: tf.NamedTensorMap = {};
  connected.forEach((g, i) => grads[names[i]] = g);
  if (connected.length === 0) throw new Error("variableGrads: no variable is connected to the result of f");
  return { value: y, grads };
}
