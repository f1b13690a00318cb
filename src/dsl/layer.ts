/**
 * Scopes and layers: the heart of the DSL.
 *
 * A {@link Layer} is an object with a name and a `forward(scope, ...inputs)`. Applying it inside a parent scope
 * opens the child scope `parent/name`; its variables are created on the first application (shapes inferred from
 * the inputs) and reused by every later application of the same object (weight sharing, like Sonnet or
 * `tf.make_template`). A layer object owns one scope per model: the path chosen at its first application.
 * Sibling layers with the same name get deterministic unique names (`conv`, `conv_1`).
 *
 * @example
 * ```ts
 * class Dense extends Layer {
 *   constructor(readonly units: number, name = "fc") { super(name); }
 *   forward(scope: Scope, x: tf.Tensor) {
 *     const w = scope.variable("w", [x.shape.at(-1)!, this.units], { initializer: "glorot_uniform" });
 *     return tf.matMul(x, w);
 *   }
 * }
 * ```
 *
 * @module
 */
import type { tf } from "../deps.ts";
import type { NamedTensors } from "../weights/named_tensors.ts";
import { checkName, joinPath, NameAllocator } from "./names.ts";
import type { VariableOptions, VariableStore } from "./variable_store.ts";

/**
 * Told when a layer's scope opens and closes; `GraphRecorder` (graph_recorder.ts) is one. Declared here so that
 * the layer does not depend on the recorder that depends on it.
 */
export interface ScopeObserver {
  enterScope(path: string, layerType: string, inputs: readonly unknown[]): void;
  exitScope(path: string, output: unknown): void;
}

/** What every scope of one network application shares. */
export interface ApplyContext {
  readonly store: VariableStore;
  /** Training mode: batch norm uses batch statistics and updates its moving averages, dropout is active. */
  readonly training: boolean;
  /** Present while the graph is being recorded. */
  readonly recorder?: ScopeObserver;
}

/** A position in the scope tree during one application of a network. */
export class Scope {
  readonly path: string;
  readonly context: ApplyContext;
  readonly #names = new NameAllocator();
  readonly #owners = new Map<string, Layer<never[], unknown>>();

  private constructor(path: string, context: ApplyContext) {
    this.path = path;
    this.context = context;
  }

  /** The root scope (empty path) of one application; networks applied here get their own name as path. */
  static root(context: ApplyContext): Scope {
    return new Scope("", context);
  }

  /** Whether the network runs in training mode. */
  get training(): boolean {
    return this.context.training;
  }

  /** The model's variables. */
  get store(): VariableStore {
    return this.context.store;
  }

  /** The variable `name` in this scope, created with `shape` on first use. */
  variable(name: string, shape: readonly number[], options?: VariableOptions): tf.Variable {
    if (this.path === "") throw new Error(`variable "${name}" must be created inside a layer, not at the root`);
    return this.context.store.getOrCreate(joinPath(this.path, checkName(name, "variable name")), shape, options);
  }

  /** @internal Opens the child scope for `layer` (see {@link Layer.apply}). */
  enter<In extends unknown[], Out>(layer: Layer<In, Out>, path: string, inputs: In, run: (child: Scope) => Out): Out {
    const recorder = this.context.recorder;
    recorder?.enterScope(path, layer.layerType, inputs);
    const output = run(new Scope(path, this.context));
    recorder?.exitScope(path, output);
    return output;
  }

  /** @internal The path a layer gets when applied here for the first time in this model. */
  claimChild(layer: Layer<never[], unknown>, bound: string | undefined): string {
    if (bound !== undefined) {
      const name = bound.slice(bound.lastIndexOf("/") + 1);
      if (parentOf(bound) === this.path) {
        const owner = this.#owners.get(name);
        if (owner === undefined) {
          if (!this.#names.claim(name)) {
            throw new Error(`two layers claim scope "${bound}": give one of them another name`);
          }
          this.#owners.set(name, layer);
        } else if (owner !== layer) throw new Error(`two layers claim scope "${bound}": give one of them another name`);
      }
      return bound;
    }
    const name = this.#names.allocate(layer.name);
    this.#owners.set(name, layer);
    return joinPath(this.path, name);
  }
}

function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i < 0 ? "" : path.slice(0, i);
}

/** Restores one layer's variables from a scope of a checkpoint, whatever its own path turns out to be. */
interface LayerRestore {
  readonly source: NamedTensors;
  readonly sourceName: string;
  readonly fromScope: string;
}

/**
 * A named, reusable piece of network. Subclasses implement {@link Layer.forward}; users call
 * {@link Layer.apply} with the parent scope.
 */
export abstract class Layer<In extends unknown[] = [tf.Tensor], Out = tf.Tensor> {
  readonly name: string;
  readonly #paths = new WeakMap<VariableStore, string>();
  #restore: LayerRestore | undefined;
  readonly #restoreRegistered = new WeakSet<VariableStore>();

  constructor(name: string) {
    this.name = checkName(name, "layer name");
  }

  /** The computation, run inside this layer's own scope. */
  abstract forward(scope: Scope, ...inputs: In): Out;

  /** The class name shown in graphs. */
  get layerType(): string {
    return this.constructor.name;
  }

  /** The path this layer got in `store`'s model, once applied. */
  pathIn(store: VariableStore): string | undefined {
    return this.#paths.get(store);
  }

  /**
   * Initializes this layer's variables from the tensors under `fromScope` in `source` (instead of their
   * initializers), wherever the layer sits: `new Encoder("enc").restoreFrom(ckpt, "MeshNet")` loads
   * `MeshNet/conv_0/w` into `<…>/enc/conv_0/w`. Every variable of the layer must be found, with its shape.
   */
  restoreFrom(source: NamedTensors, fromScope: string, { sourceName = "checkpoint" } = {}): this {
    this.#restore = { source, sourceName, fromScope: fromScope.replace(/\/+$/, "") };
    return this;
  }

  /** Applies the layer in `parent`: opens its scope, creating variables on first use. */
  apply(parent: Scope, ...inputs: In): Out {
    const store = parent.store;
    const path = parent.claimChild(this as unknown as Layer<never[], unknown>, this.#paths.get(store));
    this.#paths.set(store, path);
    if (this.#restore && !this.#restoreRegistered.has(store)) {
      this.#restoreRegistered.add(store);
      const { source, sourceName, fromScope } = this.#restore;
      store.addRestoreRule({
        source,
        sourceName,
        include: new RegExp(`^${escapeRegExp(path)}/`),
        mappings: [{ from: `${fromScope}/`, to: `${path}/` }],
        missing: "error",
      });
    }
    return parent.enter(this, path, inputs, (scope) => this.forward(scope, ...inputs));
  }
}

/** A layer from a function, for small blocks that need no constructor. */
export class FunctionLayer<In extends unknown[] = [tf.Tensor], Out = tf.Tensor> extends Layer<In, Out> {
  readonly #fn: (scope: Scope, ...inputs: In) => Out;
  readonly #type: string;

  constructor(name: string, fn: (scope: Scope, ...inputs: In) => Out, { layerType = "FunctionLayer" } = {}) {
    super(name);
    this.#fn = fn;
    this.#type = layerType;
  }

  override get layerType(): string {
    return this.#type;
  }

  forward(scope: Scope, ...inputs: In): Out {
    return this.#fn(scope, ...inputs);
  }
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Applies a network (any layer) at the root of a model whose variables live in `store`. */
export function applyNetwork<In extends unknown[], Out>(
  network: Layer<In, Out>,
  inputs: In,
  { store, training = false, recorder }: { store: VariableStore; training?: boolean; recorder?: ScopeObserver },
): Out {
  return network.apply(Scope.root({ store, training, recorder }), ...inputs);
}
