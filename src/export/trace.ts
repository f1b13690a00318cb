/**
 * A network as a data-flow graph of tfjs kernels, for export: the network is applied once to a zero input while
 * the shared kernel tap (`withKernelObserver`) reports every kernel. A kernel whose inputs are all static
 * (variables, constants, or outputs of such kernels) is evaluated once and becomes a static value (constant
 * folding: batch norm's scale and shift, a GELU's constants); the others are the graph's ops, each tagged with the
 * scope (layer) that ran it, so a writer can name the layer it cannot express.
 *
 * @module
 */
import { tf } from "../deps.ts";
import { applyNetwork, type Layer, type ScopeObserver, type VariableStore, withKernelObserver } from "../dsl/mod.ts";

/** Where an op input comes from: a network input, another op's output, or a static value. */
export type TraceRef =
  | { readonly kind: "input"; readonly index: number }
  | { readonly kind: "op"; readonly id: number; readonly output: number }
  | { readonly kind: "static"; readonly value: tf.Tensor; readonly variable?: string };

/** One kernel on the data path (at least one input depends on the network input). */
export interface TracedOp {
  readonly id: number;
  /** The tfjs kernel name, e.g. `Conv3D`, `Add`, `Relu`. */
  readonly op: string;
  readonly inputs: readonly TraceRef[];
  /** The kernel's attributes as tfjs received them. */
  readonly attrs: Readonly<Record<string, unknown>>;
  readonly outputShapes: readonly (readonly number[])[];
  /** Path of the innermost scope (layer application) that ran the kernel, e.g. `ToyNet/conv_input_bn_relu/bn_`. */
  readonly scope: string;
  /** That scope's layer class, e.g. `BNLayer`. */
  readonly layerType: string;
}

/** A traced network; {@link NetworkTrace.dispose} frees the static values. */
export interface NetworkTrace {
  readonly network: string;
  readonly inputShape: readonly number[];
  readonly ops: readonly TracedOp[];
  readonly output: TraceRef;
  readonly outputShape: readonly number[];
  dispose(): void;
}

class ScopeStack implements ScopeObserver {
  readonly stack: { path: string; layerType: string }[] = [];
  enterScope(path: string, layerType: string): void {
    this.stack.push({ path, layerType });
  }
  exitScope(): void {
    this.stack.pop();
  }
}

/**
 * Applies `network` (its variables already in `store`) once in inference mode to zeros of `inputShape` and returns
 * its kernel graph. Refuses a network whose output is not one tensor.
 *
 * @example
 * ```ts
 * const trace = traceNetwork(new ToyNet({ numClasses: 2 }), store, [1, 8, 8, 8, 1]);
 * console.log(trace.ops.map((op) => op.op)); // ["Conv3D", "Multiply", "Add", "Relu", …]
 * trace.dispose();
 * ```
 */
export function traceNetwork(
  network: Layer<[tf.Tensor], unknown>,
  store: VariableStore,
  inputShape: readonly number[],
): NetworkTrace {
  const variables = new Map<number, string>();
  for (const r of store.records()) variables.set(r.variable.id, r.path);
  const refs = new Map<number, TraceRef>();
  const kept: tf.Tensor[] = [];
  const ops: TracedOp[] = [];
  const scopes = new ScopeStack();
  const keepStatic = (t: tf.Tensor, variable?: string): TraceRef => {
    const value = tf.keep(t.clone());
    kept.push(value);
    return { kind: "static", value, variable };
  };
  const refOf = (t: tf.Tensor): TraceRef => {
    const known = refs.get(t.id);
    if (known) return known;
    const ref = keepStatic(t, variables.get(t.id));
    refs.set(t.id, ref);
    return ref;
  };
  try {
    const output = withKernelObserver((name, inputs, attrs, outputs) => {
      if (scopes.stack.length === 0) return; // outside the network
      const inputRefs = Object.values(inputs).filter((t) => t instanceof tf.Tensor).map(refOf);
      if (inputRefs.every((r) => r.kind === "static")) {
        for (const t of outputs) refs.set(t.id, keepStatic(t));
        return;
      }
      const { path, layerType } = scopes.stack.at(-1)!;
      const id = ops.length;
      ops.push({
        id,
        op: name,
        inputs: inputRefs,
        attrs: { ...(attrs as Record<string, unknown> ?? {}) },
        outputShapes: outputs.map((t) => [...t.shape]),
        scope: path,
        layerType,
      });
      outputs.forEach((t, output) => refs.set(t.id, { kind: "op", id, output }));
    }, () =>
      tf.tidy(() => {
        const x = tf.zeros([...inputShape]);
        refs.set(x.id, { kind: "input", index: 0 });
        const y = applyNetwork(network, [x], { store, training: false, recorder: scopes });
        if (!(y instanceof tf.Tensor)) {
          throw new Error(
            `network "${network.name}" returns ${typeof y}, not one tensor: only single-output networks export`,
          );
        }
        return { ref: refOf(y), shape: [...y.shape] };
      }));
    return {
      network: network.name,
      inputShape: [...inputShape],
      ops,
      output: output.ref,
      outputShape: output.shape,
      dispose: () => tf.dispose(kept),
    };
  } catch (error) {
    tf.dispose(kept);
    throw error;
  }
}

/** How many times each op output is read by other ops (and the network output). Keys: `id:output`. */
export function consumerCounts(trace: NetworkTrace): Map<string, number> {
  const counts = new Map<string, number>();
  const count = (r: TraceRef) => {
    if (r.kind !== "op") return;
    const key = `${r.id}:${r.output}`;
    counts.set(key, (counts.get(key) ?? 0) + 1);
  };
  for (const op of trace.ops) op.inputs.forEach(count);
  count(trace.output);
  return counts;
}
