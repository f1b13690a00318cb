/**
 * The VariableStore: every variable of a model keyed by its full path, with how it was made (initializer or
 * restore), whether it trains, its regularizer and its collections.
 *
 * @module
 */
import { tf } from "../deps.ts";
import type { NamedTensors } from "../weights/named_tensors.ts";
import { type InitializerName, type InitializerSpec, initialValues, toInitializerSpec } from "./initializers.ts";
import type { VariablePath } from "./names.ts";
import { RandomStream } from "./random.ts";
import { lookupRestore, type RestoreRule } from "./restore.ts";

/** A penalty added to the loss for a variable; `l2` is TensorFlow's l2_regularizer: decay·Σw²/2. */
export interface Regularizer {
  readonly l2: number;
}

/** Collection of non-trainable running statistics (batch norm moving mean/variance). */
export const MOVING_STATISTICS = "moving_statistics";

/** How a layer asks for a variable. */
export interface VariableOptions {
  /** Default `niftynet_default` for kernels; layers pass what they need. */
  readonly initializer?: InitializerName | InitializerSpec;
  /** Default true; false for state such as moving averages. */
  readonly trainable?: boolean;
  readonly regularizer?: Regularizer;
  readonly collections?: readonly string[];
}

/** Everything the store knows about one variable. */
export interface VariableRecord {
  readonly path: VariablePath;
  readonly shape: readonly number[];
  readonly variable: tf.Variable;
  /** False for state variables and for variables frozen with {@link VariableStore.freeze}. */
  readonly trainable: boolean;
  /** Whether the layer created it as trainable (frozen variables stay `declaredTrainable`). */
  readonly declaredTrainable: boolean;
  readonly regularizer?: Regularizer;
  readonly collections: readonly string[];
  readonly initializer: InitializerSpec;
  /** Where its first value came from. */
  readonly origin: { readonly kind: "initialized" } | {
    readonly kind: "restored";
    readonly sourceName: string;
    readonly sourcePath: string;
  };
}

/** What the restore-initializer did, for printing after a model is built. */
export interface RestoreReport {
  readonly restored: readonly { path: string; sourceName: string; sourcePath: string }[];
  readonly initialized: readonly string[];
}

let storeSerial = 0;

/** Holds the variables of one model. Dispose it to free their memory. */
export class VariableStore {
  readonly seed: number;
  #records = new Map<string, VariableRecord & { trainable: boolean }>();
  #rules: RestoreRule[] = [];
  #frozen: RegExp[] = [];
  readonly #serial = ++storeSerial;

  constructor({ seed = 0, restore = [] }: { seed?: number; restore?: readonly RestoreRule[] } = {}) {
    this.seed = seed;
    this.#rules.push(...restore);
  }

  /** Adds a restore-initializer rule; it applies to variables created from now on. */
  addRestoreRule(rule: RestoreRule): void {
    this.#rules.push(rule);
  }

  /**
   * The variable at `path`, created on first request. A later request must ask for the same shape (weight
   * sharing); a mismatch is an error naming both shapes.
   */
  getOrCreate(path: string, shape: readonly number[], options: VariableOptions = {}): tf.Variable {
    const existing = this.#records.get(path);
    if (existing) {
      if (existing.shape.length !== shape.length || existing.shape.some((d, i) => d !== shape[i])) {
        throw new Error(`variable "${path}" exists with shape [${existing.shape}], requested again with [${shape}]`);
      }
      return existing.variable;
    }
    for (const d of shape) {
      if (!Number.isInteger(d) || d < 0) throw new Error(`variable "${path}": invalid shape [${shape}]`);
    }
    const initializer = toInitializerSpec(options.initializer ?? "niftynet_default");
    const found = lookupRestore(this.#rules, path, shape);
    const values = found.kind === "restored"
      ? Float32Array.from(found.tensor.data as ArrayLike<number>)
      : initialValues(initializer, shape, RandomStream.forName(this.seed, path));
    const declaredTrainable = options.trainable ?? true;
    const initial = tf.tensor(values, [...shape], "float32");
    const variable = tf.variable(initial, declaredTrainable, this.#engineName(path));
    initial.dispose();
    const record = {
      path: path as VariablePath,
      shape: [...shape],
      variable,
      trainable: declaredTrainable && !this.#frozen.some((re) => re.test(path)),
      declaredTrainable,
      regularizer: options.regularizer,
      collections: [...(options.collections ?? [])],
      initializer,
      origin: found.kind === "restored"
        ? { kind: "restored" as const, sourceName: found.sourceName, sourcePath: found.sourcePath }
        : { kind: "initialized" as const },
    };
    this.#records.set(path, record);
    return variable;
  }

  /** Whether a variable exists at `path`. */
  has(path: string): boolean {
    return this.#records.has(path);
  }

  /** The record at `path`, or undefined. */
  get(path: string): VariableRecord | undefined {
    return this.#records.get(path);
  }

  /** All records in creation order. */
  records(): VariableRecord[] {
    return [...this.#records.values()];
  }

  /** Variables the optimizer updates: declared trainable and not frozen. */
  trainableVariables(): tf.Variable[] {
    return this.records().filter((r) => r.trainable).map((r) => r.variable);
  }

  /**
   * Freezes every variable whose path matches `pattern` (searched anywhere, NiftyNet `vars_to_freeze`), now and
   * for variables created later. Returns the paths frozen so far.
   */
  freeze(pattern: RegExp | string): string[] {
    const re = typeof pattern === "string" ? new RegExp(pattern) : pattern;
    this.#frozen.push(re);
    for (const r of this.#records.values()) if (re.test(r.path)) r.trainable = false;
    return this.records().filter((r) => r.declaredTrainable && !r.trainable).map((r) => r.path);
  }

  /** Σ over regularized variables of decay·Σw²/2, as a scalar (0 when none). */
  regularizationLoss(): tf.Scalar {
    return tf.tidy(() => {
      let total: tf.Scalar = tf.scalar(0);
      for (const r of this.#records.values()) {
        if (r.regularizer && r.trainable) {
          total = tf.add(total, tf.mul(r.regularizer.l2 / 2, tf.sum(tf.square(r.variable))));
        }
      }
      return total;
    });
  }

  /** Number of elements over all variables, or only trainable ones. */
  parameterCount({ trainableOnly = false }: { trainableOnly?: boolean } = {}): number {
    return this.records().filter((r) => !trainableOnly || r.declaredTrainable).reduce(
      (n, r) => n + r.shape.reduce((a, b) => a * b, 1),
      0,
    );
  }

  /** Which variables were restored and which initialized. */
  restoreReport(): RestoreReport {
    const restored = [], initialized = [];
    for (const r of this.#records.values()) {
      if (r.origin.kind === "restored") {
        restored.push({ path: r.path, sourceName: r.origin.sourceName, sourcePath: r.origin.sourcePath });
      } else initialized.push(r.path);
    }
    return { restored, initialized };
  }

  /** Host copies of every variable (for checkpoints), keyed by path, in creation order. */
  async toNamedTensors(): Promise<NamedTensors> {
    const out: NamedTensors = new Map();
    for (const r of this.#records.values()) {
      out.set(r.path, { dtype: "float32", shape: r.shape, data: (await r.variable.data()) as Float32Array });
    }
    return out;
  }

  /**
   * Assigns existing variables from named tensors (resuming a checkpoint). Every variable must be present with
   * its exact shape unless `allowMissing`; extra tensors are ignored (optimizer slots live beside variables).
   */
  assignFrom(tensors: NamedTensors, { sourceName = "checkpoint", allowMissing = false } = {}): void {
    const missing = [...this.#records.keys()].filter((p) => !tensors.has(p));
    if (missing.length && !allowMissing) {
      throw new Error(
        `"${sourceName}" lacks ${missing.length} variable(s) of the model: ${missing.slice(0, 5).join(", ")}`,
      );
    }
    for (const r of this.#records.values()) {
      const t = tensors.get(r.path);
      if (!t) continue;
      if (t.shape.length !== r.shape.length || t.shape.some((d, i) => d !== r.shape[i])) {
        throw new Error(`"${sourceName}" tensor "${r.path}" has shape [${t.shape}], the model's variable [${r.shape}]`);
      }
      tf.tidy(() => r.variable.assign(tf.tensor(Float32Array.from(t.data as ArrayLike<number>), [...r.shape])));
    }
  }

  /** Frees every variable. */
  dispose(): void {
    for (const r of this.#records.values()) r.variable.dispose();
    this.#records.clear();
  }

  // tfjs requires globally unique variable names; several stores may hold the same network.
  #engineName(path: string): string {
    return `${path}@store${this.#serial}`;
  }
}
