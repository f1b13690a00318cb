/**
 * Records the graph of a network while it is applied: the scope tree (one node per layer application) with the
 * kernels each scope ran, their data-flow inputs and shapes, and the variables it owns.
 *
 * Kernels are captured by wrapping the tfjs engine's public `runKernel` for the duration of the recording only
 * (every tfjs op funnels through it), so layer authors write plain tfjs code and still get a full op graph.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { GraphOp, GraphScope, GraphVariable, NetworkGraph } from "./graph_types.ts";
import { applyNetwork, type Layer, type ScopeObserver } from "./layer.ts";
import { withKernelObserver } from "./kernel_tap.ts";
import { NameAllocator } from "./names.ts";
import { VariableStore } from "./variable_store.ts";

interface MutableScope {
  name: string;
  path: string;
  layerType: string;
  calls: number;
  inputShapes: number[][];
  outputShapes: number[][];
  children: (MutableScope | GraphOp)[];
  names: NameAllocator;
}

function shapesOf(values: readonly unknown[]): number[][] {
  const out: number[][] = [];
  const visit = (v: unknown) => {
    if (v instanceof tf.Tensor) out.push([...v.shape]);
    else if (Array.isArray(v)) v.forEach(visit);
    // Output objects (a GAN's { generated, realLogits, … }, a VAE's eight tensors): their tensors in key order.
    else if (v !== null && typeof v === "object") Object.values(v).forEach(visit);
  };
  values.forEach(visit);
  return out;
}

function attrText(value: unknown): string | undefined {
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "string") return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === "number")) return `[${value.join(",")}]`;
  return undefined;
}

/** Collects scopes and kernels; created and driven by {@link recordGraph}. */
export class GraphRecorder implements ScopeObserver {
  #scopes = new Map<string, MutableScope>();
  #stack: MutableScope[] = [];
  #producers = new Map<number, string>();
  #rootChildren: MutableScope[] = [];
  readonly #store: VariableStore;

  constructor(store: VariableStore) {
    this.#store = store;
  }

  /** Names a network input (a Placeholder node). */
  registerInput(tensor: tf.Tensor, name: string): void {
    this.#producers.set(tensor.id, name);
  }

  /** @internal Called by Scope when a layer application starts. */
  enterScope(path: string, layerType: string, inputs: readonly unknown[]): void {
    let node = this.#scopes.get(path);
    if (node) node.calls++;
    else {
      node = {
        name: path.slice(path.lastIndexOf("/") + 1),
        path,
        layerType,
        calls: 1,
        inputShapes: shapesOf(inputs),
        outputShapes: [],
        children: [],
        names: new NameAllocator(),
      };
      this.#scopes.set(path, node);
      const parent = this.#scopes.get(path.slice(0, Math.max(0, path.lastIndexOf("/"))));
      if (parent) parent.children.push(node);
      else this.#rootChildren.push(node);
    }
    this.#stack.push(node);
  }

  /** @internal Called by Scope when a layer application returns. */
  exitScope(path: string, output: unknown): void {
    const node = this.#stack.pop();
    if (!node || node.path !== path) throw new Error(`graph recorder: scope "${path}" closed out of order`);
    if (node.calls === 1) node.outputShapes = shapesOf([output]);
  }

  /** @internal Called for every top-level kernel while recording. */
  recordKernel(kernel: string, inputs: Record<string, tf.Tensor>, attrs: unknown, outputs: tf.Tensor[]): void {
    const scope = this.#stack.at(-1);
    if (!scope) return; // kernels outside the network (input preparation) are not part of it
    const inputPaths: string[] = [];
    for (const t of Object.values(inputs)) {
      if (!(t instanceof tf.Tensor)) continue;
      inputPaths.push(this.#producers.get(t.id) ?? this.#variablePath(t) ?? this.#constant(scope, t));
    }
    const name = scope.names.allocate(kernel);
    const path = `${scope.path}/${name}`;
    const attrTexts: Record<string, string> = {};
    if (attrs && typeof attrs === "object") {
      for (const [k, v] of Object.entries(attrs)) {
        const text = attrText(v);
        if (text !== undefined) attrTexts[k] = text;
      }
    }
    scope.children.push({
      kind: "op",
      name,
      path,
      op: kernel,
      inputs: inputPaths,
      inputShapes: Object.values(inputs).filter((t) => t instanceof tf.Tensor).map((t) => [...t.shape]),
      outputShapes: outputs.map((t) => [...t.shape]),
      attrs: attrTexts,
    });
    for (const t of outputs) this.#producers.set(t.id, path);
  }

  #variablePath(t: tf.Tensor): string | undefined {
    for (const r of this.#store.records()) if (r.variable.id === t.id) return r.path;
    return undefined;
  }

  // A tensor no recorded kernel produced (tf.scalar/tf.tensor inside a layer): a Const node in the current scope.
  #constant(scope: MutableScope, t: tf.Tensor): string {
    const name = scope.names.allocate("Const");
    const path = `${scope.path}/${name}`;
    scope.children.push({
      kind: "op",
      name,
      path,
      op: "Const",
      inputs: [],
      inputShapes: [],
      outputShapes: [[...t.shape]],
      attrs: { dtype: t.dtype },
    });
    this.#producers.set(t.id, path);
    return path;
  }

  /** The finished tree of the one network applied at the root. */
  finish(): GraphScope {
    if (this.#rootChildren.length !== 1) {
      throw new Error(`graph recorder: expected one network at the root, found ${this.#rootChildren.length}`);
    }
    const variables = new Map<string, GraphVariable[]>();
    for (const r of this.#store.records()) {
      const parent = r.path.slice(0, r.path.lastIndexOf("/"));
      const list = variables.get(parent) ?? [];
      list.push({ name: r.path.slice(parent.length + 1), path: r.path, shape: r.shape, trainable: r.trainable });
      variables.set(parent, list);
    }
    const freeze = (node: MutableScope): GraphScope => {
      const children = node.children.map((c) => ("kind" in c ? c : freeze(c)));
      const own = variables.get(node.path) ?? [];
      const count = (vs: GraphVariable[]) => vs.reduce((n, v) => n + v.shape.reduce((a, b) => a * b, 1), 0);
      const scopes = children.filter((c): c is GraphScope => c.kind === "scope");
      return {
        kind: "scope",
        name: node.name,
        path: node.path,
        layerType: node.layerType,
        calls: node.calls,
        inputShapes: node.inputShapes,
        outputShapes: node.outputShapes,
        variables: own,
        parameters: count(own) + scopes.reduce((n, s) => n + s.parameters, 0),
        trainableParameters: count(own.filter((v) => v.trainable)) +
          scopes.reduce((n, s) => n + s.trainableParameters, 0),
        children,
      };
    };
    return freeze(this.#rootChildren[0]);
  }
}

/**
 * Applies `network` once to zero inputs of the given shapes and returns its graph. Uses `store` when given (so
 * restored or trained variables are shown), else a temporary store that is disposed afterwards.
 */
export function recordGraph<Out>(
  network: Layer<tf.Tensor[], Out>,
  inputShapes: readonly (readonly number[])[],
  { store, training = false }: { store?: VariableStore; training?: boolean } = {},
): NetworkGraph {
  const ownStore = store ?? new VariableStore();
  const recorder = new GraphRecorder(ownStore);
  try {
    const outputShapes = withKernelObserver((name, inputs, attrs, outputs) => {
      recorder.recordKernel(name, inputs, attrs, outputs);
    }, () =>
      tf.tidy(() => {
        const inputs = inputShapes.map((s, i) => {
          const t = tf.zeros([...s]);
          recorder.registerInput(t, i === 0 ? "input" : `input_${i}`);
          return t;
        });
        return shapesOf([applyNetwork(network, inputs, { store: ownStore, training, recorder })]);
      }));
    const root = recorder.finish();
    return {
      network: root.name,
      inputs: inputShapes.map((s, i) => ({ name: i === 0 ? "input" : `input_${i}`, shape: [...s] })),
      outputShapes,
      parameters: root.parameters,
      trainableParameters: root.trainableParameters,
      root,
    };
  } finally {
    if (!store) ownStore.dispose();
  }
}
