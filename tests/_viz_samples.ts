/**
 * Hand-built `NetworkGraph` samples for the viz tests (src/viz): a small nested net with a shared layer, and a
 * deep residual net with many scopes.
 *
 * @module
 */
import type { GraphOp, GraphScope, GraphVariable, NetworkGraph } from "../src/dsl/graph_types.ts";

type Shape = readonly number[];
const last = (path: string) => path.slice(path.lastIndexOf("/") + 1);

/** A recorded op at `path` (kernel = `op`). */
export function op(
  path: string,
  kernel: string,
  inputs: { path: string; shape: Shape }[],
  out: Shape,
  attrs: Record<string, string> = {},
): GraphOp {
  return {
    kind: "op",
    name: last(path),
    path,
    op: kernel,
    inputs: inputs.map((i) => i.path),
    inputShapes: inputs.map((i) => i.shape),
    outputShapes: [out],
    attrs,
  };
}

/** A variable at `path`. */
export function variable(path: string, shape: Shape, trainable = true): GraphVariable {
  return { name: last(path), path, shape, trainable };
}

/** A scope whose parameter counts are summed from its variables and child scopes. */
export function scope(
  path: string,
  layerType: string,
  parts: {
    variables?: GraphVariable[];
    children?: (GraphScope | GraphOp)[];
    inputShapes: Shape[];
    outputShapes: Shape[];
    calls?: number;
  },
): GraphScope {
  const variables = parts.variables ?? [], children = parts.children ?? [];
  const size = (v: GraphVariable) => v.shape.reduce((a, b) => a * b, 1);
  let parameters = 0, trainableParameters = 0;
  for (const v of variables) {
    parameters += size(v);
    if (v.trainable) trainableParameters += size(v);
  }
  for (const c of children) {
    if (c.kind === "scope") {
      parameters += c.parameters;
      trainableParameters += c.trainableParameters;
    }
  }
  return {
    kind: "scope",
    name: last(path),
    path,
    layerType,
    calls: parts.calls ?? 1,
    inputShapes: parts.inputShapes,
    outputShapes: parts.outputShapes,
    variables,
    parameters,
    trainableParameters,
    children,
  };
}

/** conv (w) → batch norm (gamma, beta, moving stats) → relu, as NiftyNet's conv_bn_relu block names it. */
function convBnRelu(path: string, input: { path: string; shape: Shape }, cin: number, cout: number): GraphScope {
  const shape = [...input.shape.slice(0, -1), cout];
  const t = (p: string) => ({ path: p, shape });
  const w = variable(`${path}/conv_/w`, [3, 3, cin, cout]);
  const conv = scope(`${path}/conv_`, "ConvLayer", {
    variables: [w],
    children: [
      op(`${path}/conv_/Conv2D`, "Conv2D", [input, { path: w.path, shape: w.shape }], shape, {
        strides: "1,1",
        pad: "same",
      }),
    ],
    inputShapes: [input.shape],
    outputShapes: [shape],
  });
  const bnVars = [
    variable(`${path}/bn_/gamma`, [cout]),
    variable(`${path}/bn_/beta`, [cout]),
    variable(`${path}/bn_/moving_mean`, [cout], false),
    variable(`${path}/bn_/moving_variance`, [cout], false),
  ];
  const v = (i: number) => ({ path: bnVars[i].path, shape: bnVars[i].shape });
  const bn = scope(`${path}/bn_`, "BNLayer", {
    variables: bnVars,
    children: [
      op(`${path}/bn_/Sub`, "Sub", [t(`${path}/conv_/Conv2D`), v(2)], shape),
      op(`${path}/bn_/Mul`, "Mul", [t(`${path}/bn_/Sub`), v(0)], shape),
      op(`${path}/bn_/Add`, "Add", [t(`${path}/bn_/Mul`), v(1)], shape),
    ],
    inputShapes: [shape],
    outputShapes: [shape],
  });
  return scope(path, "ConvolutionalLayer", {
    children: [conv, bn, op(`${path}/Relu`, "Relu", [t(`${path}/bn_/Add`)], shape)],
    inputShapes: [input.shape],
    outputShapes: [shape],
  });
}

/**
 * ToyNet: input [1,8,8,1] → conv_0 (w, b) → res_1 (conv_a, conv_b: conv_bn_relu blocks, 4 levels deep, plus the
 * skip Add) → `shared` applied twice (weight sharing: Conv2D, Conv2D_1 use one `w`) → Const · Mul → Sigmoid.
 * 376 parameters, 360 trainable (BN moving statistics are not).
 */
export function toyNet(): NetworkGraph {
  const s1: Shape = [1, 8, 8, 1], s4: Shape = [1, 8, 8, 4];
  const t = (path: string, shape: Shape = s4) => ({ path, shape });
  const conv0 = scope("ToyNet/conv_0", "ConvolutionalLayer", {
    variables: [variable("ToyNet/conv_0/w", [3, 3, 1, 4]), variable("ToyNet/conv_0/b", [4])],
    children: [
      op("ToyNet/conv_0/Conv2D", "Conv2D", [t("input", s1), t("ToyNet/conv_0/w", [3, 3, 1, 4])], s4, {
        strides: "1,1",
        pad: "same",
      }),
      op("ToyNet/conv_0/BiasAdd", "BiasAdd", [t("ToyNet/conv_0/Conv2D"), t("ToyNet/conv_0/b", [4])], s4),
      op("ToyNet/conv_0/Relu", "Relu", [t("ToyNet/conv_0/BiasAdd")], s4),
    ],
    inputShapes: [s1],
    outputShapes: [s4],
  });
  const convA = convBnRelu("ToyNet/res_1/conv_a", t("ToyNet/conv_0/Relu"), 4, 4);
  const convB = convBnRelu("ToyNet/res_1/conv_b", t("ToyNet/res_1/conv_a/Relu"), 4, 4);
  const res1 = scope("ToyNet/res_1", "ResidualBlock", {
    children: [
      convA,
      convB,
      op("ToyNet/res_1/Add", "Add", [t("ToyNet/conv_0/Relu"), t("ToyNet/res_1/conv_b/Relu")], s4),
    ],
    inputShapes: [s4],
    outputShapes: [s4],
  });
  const shared = scope("ToyNet/shared", "ConvLayer", {
    calls: 2,
    variables: [variable("ToyNet/shared/w", [1, 1, 4, 4])],
    children: [
      op("ToyNet/shared/Conv2D", "Conv2D", [t("ToyNet/res_1/Add"), t("ToyNet/shared/w", [1, 1, 4, 4])], s4),
      op("ToyNet/shared/Conv2D_1", "Conv2D", [t("ToyNet/shared/Conv2D"), t("ToyNet/shared/w", [1, 1, 4, 4])], s4),
    ],
    inputShapes: [s4],
    outputShapes: [s4],
  });
  const root = scope("ToyNet", "ToyNet", {
    children: [
      conv0,
      res1,
      shared,
      op("ToyNet/Const", "Const", [], [], { value: "0.5" }),
      op("ToyNet/Mul", "Mul", [t("ToyNet/shared/Conv2D_1"), t("ToyNet/Const", [])], s4),
      op("ToyNet/Sigmoid", "Sigmoid", [t("ToyNet/Mul")], s4),
    ],
    inputShapes: [s1],
    outputShapes: [s4],
  });
  return {
    network: "ToyNet",
    inputs: [{ name: "input", shape: s1 }],
    outputShapes: [s4],
    parameters: root.parameters,
    trainableParameters: root.trainableParameters,
    root,
  };
}

/** A HighRes3DNet-like stack: conv_0, `blocks` residual blocks of two conv_bn_relu each, a 1×1 output conv. */
export function deepNet(blocks: number): NetworkGraph {
  const s1: Shape = [1, 16, 16, 1], s8: Shape = [1, 16, 16, 8];
  const children: GraphScope[] = [convBnRelu("DeepNet/conv_0", { path: "input", shape: s1 }, 1, 8)];
  let prev = "DeepNet/conv_0/Relu";
  for (let i = 1; i <= blocks; i++) {
    const p = `DeepNet/res_${i}`;
    const a = convBnRelu(`${p}/conv_a`, { path: prev, shape: s8 }, 8, 8);
    const b = convBnRelu(`${p}/conv_b`, { path: `${p}/conv_a/Relu`, shape: s8 }, 8, 8);
    children.push(
      scope(p, "HighResBlock", {
        children: [
          a,
          b,
          op(`${p}/Add`, "Add", [{ path: prev, shape: s8 }, { path: `${p}/conv_b/Relu`, shape: s8 }], s8),
        ],
        inputShapes: [s8],
        outputShapes: [s8],
      }),
    );
    prev = `${p}/Add`;
  }
  const w = variable("DeepNet/conv_out/w", [1, 1, 8, 2]);
  children.push(
    scope("DeepNet/conv_out", "ConvLayer", {
      variables: [w],
      children: [
        op("DeepNet/conv_out/Conv2D", "Conv2D", [{ path: prev, shape: s8 }, { path: w.path, shape: w.shape }], [
          1,
          16,
          16,
          2,
        ]),
      ],
      inputShapes: [s8],
      outputShapes: [[1, 16, 16, 2]],
    }),
  );
  const root = scope("DeepNet", "DeepNet", { children, inputShapes: [s1], outputShapes: [[1, 16, 16, 2]] });
  return {
    network: "DeepNet",
    inputs: [{ name: "input", shape: s1 }],
    outputShapes: [[1, 16, 16, 2]],
    parameters: root.parameters,
    trainableParameters: root.trainableParameters,
    root,
  };
}

/** Every scope in the graph, depth first. */
export function allScopes(graph: NetworkGraph): GraphScope[] {
  const out: GraphScope[] = [];
  const visit = (s: GraphScope) => {
    out.push(s);
    for (const c of s.children) if (c.kind === "scope") visit(c);
  };
  visit(graph.root);
  return out;
}
