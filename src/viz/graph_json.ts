/**
 * The recorded network graph as readable, stable JSON.
 *
 * @module
 */
import type { GraphOp, GraphScope, GraphVariable, NetworkGraph } from "../dsl/graph_types.ts";

/**
 * Pretty JSON of a recorded network: keys in a fixed order (op attributes sorted), shapes and other short
 * arrays of plain values on one line, so the same graph always gives the same text and diffs stay small.
 * `JSON.parse` gives back an equal `NetworkGraph`.
 *
 * @example
 * ```ts
 * await Deno.writeTextFile("graph.json", graphJson(graph));
 * ```
 */
export function graphJson(graph: NetworkGraph): string {
  return pretty(canonicalGraph(graph), "") + "\n";
}

/** The graph rebuilt with keys in the canonical order (plain JSON-ready objects). */
function canonicalGraph(graph: NetworkGraph): unknown {
  return {
    network: graph.network,
    inputs: graph.inputs.map((i) => ({ name: i.name, shape: [...i.shape] })),
    outputShapes: graph.outputShapes,
    parameters: graph.parameters,
    trainableParameters: graph.trainableParameters,
    root: canonicalScope(graph.root),
  };
}

function canonicalScope(s: GraphScope): unknown {
  return {
    kind: s.kind,
    name: s.name,
    path: s.path,
    layerType: s.layerType,
    calls: s.calls,
    inputShapes: s.inputShapes,
    outputShapes: s.outputShapes,
    parameters: s.parameters,
    trainableParameters: s.trainableParameters,
    variables: s.variables.map(canonicalVariable),
    children: s.children.map((c) => c.kind === "scope" ? canonicalScope(c) : canonicalOp(c)),
  };
}

function canonicalVariable(v: GraphVariable): unknown {
  return { name: v.name, path: v.path, shape: v.shape, trainable: v.trainable };
}

function canonicalOp(o: GraphOp): unknown {
  const attrs: Record<string, string> = {};
  for (const key of Object.keys(o.attrs).sort()) attrs[key] = o.attrs[key];
  return {
    kind: o.kind,
    name: o.name,
    path: o.path,
    op: o.op,
    inputs: o.inputs,
    inputShapes: o.inputShapes,
    outputShapes: o.outputShapes,
    attrs,
  };
}

const INLINE_WIDTH = 100;

/** JSON with 2-space indentation, except arrays without objects that fit in {@link INLINE_WIDTH} characters. */
function pretty(value: unknown, indent: string): string {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  const inner = indent + "  ";
  if (Array.isArray(value)) {
    if (value.length === 0) return "[]";
    if (!containsObject(value)) {
      const flat = inlineArray(value);
      if (flat.length + indent.length <= INLINE_WIDTH) return flat;
    }
    return `[\n${value.map((v) => inner + pretty(v, inner)).join(",\n")}\n${indent}]`;
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 0) return "{}";
  return `{\n${entries.map(([k, v]) => `${inner}${JSON.stringify(k)}: ${pretty(v, inner)}`).join(",\n")}\n${indent}}`;
}

function containsObject(value: unknown[]): boolean {
  return value.some((v) => v !== null && typeof v === "object" && (!Array.isArray(v) || containsObject(v)));
}

function inlineArray(value: unknown): string {
  return Array.isArray(value) ? `[${value.map(inlineArray).join(", ")}]` : JSON.stringify(value);
}
