/**
 * What every registered network takes: NiftyNet's `BaseNet` arguments.
 *
 * @module
 */
import type { InitializerName, InitializerSpec, Regularizer } from "../src/dsl/mod.ts";
import type { ActivationName } from "../layers/mod.ts";

/** Constructor options of a registered network (NiftyNet's BaseNet arguments). */
export interface NetworkOptions {
  /** Output channels (classes for segmentation, 1 for regression). */
  readonly numClasses: number;
  readonly wInitializer?: InitializerName | InitializerSpec;
  readonly wRegularizer?: Regularizer;
  readonly bInitializer?: InitializerName | InitializerSpec;
  readonly bRegularizer?: Regularizer;
  readonly actiFunc?: ActivationName;
  /** The network's scope name (its variables start with it); each network has a default. */
  readonly name?: string;
}
