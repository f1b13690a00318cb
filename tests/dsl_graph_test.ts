import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import {
  FunctionLayer,
  type GraphOp,
  type GraphScope,
  recordGraph,
  VariableStore,
  withKernelObserver,
} from "../src/dsl/mod.ts";
import { ConvLayer } from "../layers/mod.ts";
import { ToyNet } from "../networks/mod.ts";

function flatten(node: GraphScope): (GraphScope | GraphOp)[] {
  return [node, ...node.children.flatMap((c) => (c.kind === "scope" ? flatten(c) : [c]))];
}

Deno.test("ToyNet's recorded graph has NiftyNet's scope tree, kernels with data-flow inputs, shapes and parameter counts", () => {
  const before = tf.memory().numTensors;
  const graph = recordGraph(new ToyNet({ numClasses: 4 }), [[1, 8, 8, 8, 2]]);
  assertEquals(tf.memory().numTensors, before);
  assertEquals(graph.network, "ToyNet");
  assertEquals(graph.outputShapes, [[1, 8, 8, 8, 4]]);
  // conv 3·3·3·2·10 + bn 4·10 + conv 10·4 + bn 4·4 = 540 + 40 + 40 + 16; trainable excludes moving stats.
  assertEquals(graph.parameters, 636);
  assertEquals(graph.trainableParameters, 636 - 20 - 8);
  const nodes = flatten(graph.root);
  const scopes = nodes.filter((n): n is GraphScope => n.kind === "scope").map((n) => `${n.path}:${n.layerType}`);
  assertEquals(scopes, [
    "ToyNet:ToyNet",
    "ToyNet/conv_input_bn_relu:ConvolutionalLayer",
    "ToyNet/conv_input_bn_relu/conv_:ConvLayer",
    "ToyNet/conv_input_bn_relu/bn_:BNLayer",
    "ToyNet/conv_input_bn_relu/relu_acti_:ActiLayer",
    "ToyNet/conv_output_bn:ConvolutionalLayer",
    "ToyNet/conv_output_bn/conv_:ConvLayer",
    "ToyNet/conv_output_bn/bn_:BNLayer",
  ]);
  const ops = nodes.filter((n): n is GraphOp => n.kind === "op");
  const conv = ops.find((o) => o.path === "ToyNet/conv_input_bn_relu/conv_/Conv3D")!;
  assertEquals(conv.inputs, ["input", "ToyNet/conv_input_bn_relu/conv_/w"]);
  assertEquals(conv.outputShapes, [[1, 8, 8, 8, 10]]);
  assertEquals(conv.attrs.strides, "[1,1,1]");
  const relu = ops.find((o) => o.op === "Relu")!;
  assertEquals(relu.path, "ToyNet/conv_input_bn_relu/relu_acti_/Relu");
  // The relu reads the batch norm's last op, inside bn_.
  assert(relu.inputs[0].startsWith("ToyNet/conv_input_bn_relu/bn_/"), relu.inputs[0]);
  const bn = nodes.find((n) => n.path === "ToyNet/conv_input_bn_relu/bn_") as GraphScope;
  assertEquals(bn.variables.map((v) => `${v.name}:${v.trainable}`), [
    "beta:true",
    "gamma:true",
    "moving_mean:false",
    "moving_variance:false",
  ]);
});

Deno.test("a layer applied twice records one scope with calls = 2 and uniquely named kernels", () => {
  const shared = new ConvLayer(2, { name: "shared", kernelSize: 1 });
  const net = new FunctionLayer("Siamese", (s, x: tf.Tensor) => tf.add(shared.apply(s, x), shared.apply(s, tf.neg(x))));
  const graph = recordGraph(net, [[1, 4, 4, 2]]);
  const scope = graph.root.children.find((c) => c.kind === "scope") as GraphScope;
  assertEquals(scope.calls, 2);
  assertEquals(scope.children.map((c) => c.name), ["Conv2D", "Conv2D_1"]);
  assertEquals(graph.parameters, 4);
  const add = graph.root.children.find((c) => c.kind === "op" && c.op === "Add") as GraphOp;
  assertEquals(add.inputs, ["Siamese/shared/Conv2D", "Siamese/shared/Conv2D_1"]);
});

Deno.test("recording with an existing store shows its variables and leaves it intact", () => {
  const store = new VariableStore();
  const net = new ToyNet({ numClasses: 2 });
  recordGraph(net, [[1, 4, 4, 1]], { store });
  assertEquals(store.records().length, 10);
  assertEquals(store.get("ToyNet/conv_input_bn_relu/conv_/w")!.shape, [3, 3, 1, 10]);
  store.dispose();
});

Deno.test("withKernelObserver reports each top-level kernel once with its outputs and restores the engine, also on a throw", () => {
  const engine = tf.engine() as unknown as { runKernel: unknown };
  const original = engine.runKernel;
  const seen: { name: string; outputs: number[][] }[] = [];
  const y = withKernelObserver(
    (name, _inputs, _attrs, outputs) => seen.push({ name, outputs: outputs.map((t) => [...t.shape]) }),
    () => tf.tidy(() => tf.relu(tf.sub(tf.ones([2, 3]), tf.scalar(2)))),
  );
  assertEquals(Array.from(y.dataSync()), [0, 0, 0, 0, 0, 0]);
  y.dispose();
  // ones → Fill, scalar → none; sub and relu are the network's kernels, each reported once at the top level.
  assert(seen.some((k) => k.name === "Sub") && seen.some((k) => k.name === "Relu"), JSON.stringify(seen));
  assertEquals(seen.filter((k) => k.name === "Relu").length, 1);
  assertEquals(seen.find((k) => k.name === "Relu")!.outputs, [[2, 3]]);
  assert(engine.runKernel === original, "engine restored");
  let threw = false;
  try {
    withKernelObserver(() => {}, () => {
      throw new Error("boom");
    });
  } catch {
    threw = true;
  }
  assert(threw && engine.runKernel === original, "engine restored after a throw");
});
