/**
 * A recorded network as a TensorFlow `GraphDef` (framework/graph.proto, node_def.proto, attr_value.proto,
 * tensor_shape.proto; field numbers noted inline). TensorBoard groups the `/`-separated node names into
 * collapsible boxes and labels edges with the `_output_shapes` attribute.
 *
 * @module
 */
import { BinaryWriter, WireType } from "../../deps.ts";
import type { GraphScope, NetworkGraph } from "../../dsl/graph_types.ts";

/** TensorFlow `DataType.DT_FLOAT` (types.proto). */
export const DT_FLOAT = 1;

/** One attribute value (the `AttrValue.value` oneof, restricted to what the exporter writes). */
export type AttrSpec =
  | { readonly s: string }
  | { readonly i: number }
  | { readonly b: boolean }
  | { readonly type: number }
  | { readonly shape: readonly number[] }
  | { readonly shapeList: readonly (readonly number[])[] };

/** A `NodeDef` as plain data. */
export interface NodeDefSpec {
  /** Full node name, e.g. `ToyNet/conv_0/Conv2D`. */
  readonly name: string;
  /** TensorFlow op type, e.g. `Placeholder`, `VariableV2`, `Conv3D`. */
  readonly op: string;
  /** Producer node names (`node`, `node:1`, `^node`). */
  readonly inputs: readonly string[];
  /** Attributes by name. */
  readonly attrs: Readonly<Record<string, AttrSpec>>;
}

/**
 * The NodeDefs for a recorded network: a `Placeholder` per network input, a `VariableV2` per variable (at its full
 * path), and one node per recorded op (at its path, `op` = kernel name, inputs = producer paths). Every node has
 * `_output_shapes`; ops also carry their string attributes. Throws when two nodes share a name or an op input names
 * no node.
 *
 * @example
 * ```ts
 * for (const node of nodeDefs(graph)) console.log(node.name, node.op);
 * ```
 */
export function nodeDefs(graph: NetworkGraph): NodeDefSpec[] {
  const nodes: NodeDefSpec[] = [];
  for (const input of graph.inputs) {
    nodes.push({
      name: input.name,
      op: "Placeholder",
      inputs: [],
      attrs: { dtype: { type: DT_FLOAT }, shape: { shape: input.shape }, _output_shapes: { shapeList: [input.shape] } },
    });
  }
  const visit = (scope: GraphScope): void => {
    for (const v of scope.variables) {
      nodes.push({
        name: v.path,
        op: "VariableV2",
        inputs: [],
        attrs: {
          dtype: { type: DT_FLOAT },
          shape: { shape: v.shape },
          trainable: { b: v.trainable },
          _output_shapes: { shapeList: [v.shape] },
        },
      });
    }
    for (const child of scope.children) {
      if (child.kind === "scope") {
        visit(child);
        continue;
      }
      const attrs: Record<string, AttrSpec> = {};
      for (const [key, value] of Object.entries(child.attrs)) attrs[key] = { s: value };
      attrs._output_shapes = { shapeList: child.outputShapes };
      nodes.push({ name: child.path, op: child.op, inputs: child.inputs, attrs });
    }
  };
  visit(graph.root);

  const names = new Set<string>();
  for (const node of nodes) {
    if (names.has(node.name)) throw new Error(`graph "${graph.network}": two nodes are named "${node.name}"`);
    names.add(node.name);
  }
  for (const node of nodes) {
    for (const input of node.inputs) {
      // TensorFlow input syntax: "node", "node:1" (second output) or "^node" (control input).
      const producer = input.replace(/^\^/, "").replace(/:\d+$/, "");
      if (!names.has(producer)) {
        throw new Error(
          `graph "${graph.network}": op "${node.name}" input "${input}" names no op, variable or network input`,
        );
      }
    }
  }
  return nodes;
}

/**
 * Serializes NodeDefs as a `GraphDef` message.
 *
 * @example
 * ```ts
 * const bytes = encodeGraphDef([{ name: "x", op: "Placeholder", inputs: [], attrs: { dtype: { type: DT_FLOAT } } }]);
 * ```
 */
export function encodeGraphDef(nodes: readonly NodeDefSpec[]): Uint8Array {
  const w = new BinaryWriter();
  for (const node of nodes) {
    w.tag(1, WireType.LengthDelimited).fork(); // GraphDef.node
    writeNodeDef(w, node);
    w.join();
  }
  return w.finish();
}

/**
 * Serializes one `NodeDef` message (attributes in sorted key order, so output is deterministic).
 *
 * @example
 * ```ts
 * encodeNodeDef({ name: "x", op: "Placeholder", inputs: [], attrs: { dtype: { type: DT_FLOAT } } });
 * // 0a 01 78 12 0b "Placeholder" 2a 0b 0a 05 "dtype" 12 02 30 01
 * ```
 */
export function encodeNodeDef(node: NodeDefSpec): Uint8Array {
  const w = new BinaryWriter();
  writeNodeDef(w, node);
  return w.finish();
}

/**
 * The TensorBoard `GraphDef` of a recorded network (see {@link nodeDefs}).
 *
 * @example
 * ```ts
 * const writer = await EventWriter.open("logs/train");
 * writer.graph(graphDef(graph));
 * await writer.close();
 * ```
 */
export function graphDef(graph: NetworkGraph): Uint8Array {
  return encodeGraphDef(nodeDefs(graph));
}

function writeNodeDef(w: BinaryWriter, node: NodeDefSpec): void {
  w.tag(1, WireType.LengthDelimited).string(node.name); // NodeDef.name
  w.tag(2, WireType.LengthDelimited).string(node.op); // NodeDef.op
  for (const input of node.inputs) w.tag(3, WireType.LengthDelimited).string(input); // NodeDef.input
  for (const key of Object.keys(node.attrs).sort()) {
    w.tag(5, WireType.LengthDelimited).fork(); // NodeDef.attr map entry
    w.tag(1, WireType.LengthDelimited).string(key); // entry key
    w.tag(2, WireType.LengthDelimited).fork(); // entry value: AttrValue
    writeAttrValue(w, node.attrs[key]);
    w.join().join();
  }
}

function writeAttrValue(w: BinaryWriter, attr: AttrSpec): void {
  if ("s" in attr) w.tag(2, WireType.LengthDelimited).string(attr.s); // AttrValue.s
  else if ("i" in attr) w.tag(3, WireType.Varint).int64(attr.i); // AttrValue.i
  else if ("b" in attr) w.tag(5, WireType.Varint).bool(attr.b); // AttrValue.b
  else if ("type" in attr) w.tag(6, WireType.Varint).int32(attr.type); // AttrValue.type
  else if ("shape" in attr) {
    w.tag(7, WireType.LengthDelimited).fork(); // AttrValue.shape
    writeShape(w, attr.shape);
    w.join();
  } else {
    w.tag(1, WireType.LengthDelimited).fork(); // AttrValue.list
    for (const shape of attr.shapeList) {
      w.tag(7, WireType.LengthDelimited).fork(); // ListValue.shape
      writeShape(w, shape);
      w.join();
    }
    w.join();
  }
}

function writeShape(w: BinaryWriter, shape: readonly number[]): void {
  for (const size of shape) {
    w.tag(2, WireType.LengthDelimited).fork(); // TensorShapeProto.dim
    w.tag(1, WireType.Varint).int64(size); // Dim.size (-1 = unknown)
    w.join();
  }
}
