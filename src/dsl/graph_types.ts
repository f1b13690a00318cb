/**
 * The recorded network graph as plain data. Produced by the DSL's graph recorder while a network is applied,
 * consumed by the exporters (JSON, TensorBoard GraphDef, HTML/SVG).
 *
 * @module
 */

/** A variable owned by a scope. */
export interface GraphVariable {
  /** Last path component, e.g. `w`. */
  readonly name: string;
  /** Full path, e.g. `ToyNet/conv_1/conv_/w`. */
  readonly path: string;
  readonly shape: readonly number[];
  readonly trainable: boolean;
}

/** One executed kernel (TensorFlow-style op), named `<scope path>/<Kernel>` (`_1`, `_2` for repeats). */
export interface GraphOp {
  readonly kind: "op";
  /** Unique within its scope, e.g. `Conv3D`, `Relu_1`. */
  readonly name: string;
  /** Full path, e.g. `ToyNet/conv_1/conv_/Conv3D`. */
  readonly path: string;
  /** The tfjs kernel name (TensorFlow op type), e.g. `Conv3D`, `Add`, `Relu`. */
  readonly op: string;
  /**
   * Paths of the nodes that produced each input: another op's path, a variable's path, or an input
   * placeholder's path (`input`, `input_1`, …). Constants created inside the network appear as `Const` ops.
   */
  readonly inputs: readonly string[];
  readonly inputShapes: readonly (readonly number[])[];
  readonly outputShapes: readonly (readonly number[])[];
  /** Scalar kernel attributes worth showing (strides, dilations, padding…), already stringified. */
  readonly attrs: Readonly<Record<string, string>>;
}

/** A layer application: a named scope that holds variables, ops and child scopes. */
export interface GraphScope {
  readonly kind: "scope";
  /** Last path component, e.g. `conv_1`; the root's name is the network's name. */
  readonly name: string;
  readonly path: string;
  /** The layer's class name, e.g. `ConvolutionalLayer`. */
  readonly layerType: string;
  /** How many times the layer object was applied in its parent (weight sharing shows as > 1). */
  readonly calls: number;
  /** Shapes of the tensors passed to / returned by the first application. */
  readonly inputShapes: readonly (readonly number[])[];
  readonly outputShapes: readonly (readonly number[])[];
  /** Variables created directly in this scope. */
  readonly variables: readonly GraphVariable[];
  /** Parameters of this scope and everything under it. */
  readonly parameters: number;
  readonly trainableParameters: number;
  readonly children: readonly (GraphScope | GraphOp)[];
}

/** A whole recorded network. */
export interface NetworkGraph {
  readonly network: string;
  /** Placeholder nodes for the network inputs, named `input`, `input_1`, …, with their shapes. */
  readonly inputs: readonly { readonly name: string; readonly shape: readonly number[] }[];
  readonly outputShapes: readonly (readonly number[])[];
  readonly parameters: number;
  readonly trainableParameters: number;
  /** The network's own scope (its name is the network name). */
  readonly root: GraphScope;
}
