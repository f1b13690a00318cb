import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { applyNetwork, saveCheckpoint, VariableStore } from "../src/dsl/mod.ts";
import { writeSafetensors } from "../src/weights/mod.ts";
import { MeshNet } from "../networks/mod.ts";
import { referencePythonAvailable, relativeMaxError } from "./_util.ts";

const available = referencePythonAvailable(["numpy", "torch"]);
if (!available) console.warn("PyTorch round trip skipped: /usr/bin/python3 with numpy and torch is missing");

Deno.test({
  name: "a DSL MeshNet saved to safetensors reloads in PyTorch (plain parsing) with the same conv and network outputs",
  ignore: !available,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    const net = new MeshNet({ numClasses: 3, channels: 4, bInitializer: { type: "constant", value: 0.05 } });
    const store = new VariableStore({ seed: 11 });
    const x = tf.randomNormal([1, 12, 11, 10, 1], 0, 1, "float32", 3);
    const logits = applyNetwork(net, [x], { store });
    // The first conv layer's output from the stored variables, as the DSL computes it.
    const first = tf.tidy(() => {
      const w = store.get("MeshNet/conv_0_relu/conv_/w")!.variable,
        b = store.get("MeshNet/conv_0_relu/conv_/b")!.variable;
      return tf.relu(tf.add(tf.conv3d(x as tf.Tensor5D, w as tf.Tensor5D, 1, "same"), b));
    });
    await saveCheckpoint(`${dir}/model.safetensors`, store, { iteration: 3, network: "meshnet" });
    await writeSafetensors(
      `${dir}/input.safetensors`,
      new Map([["input", {
        dtype: "float32",
        shape: x.shape,
        data: x.dataSync() as Float32Array,
      }]]),
    );
    const script = new URL("./reference/checkers/dsl_torch_roundtrip.py", import.meta.url).pathname;
    const { code, stderr } = await new Deno.Command("/usr/bin/python3", {
      args: [script, `${dir}/model.safetensors`, `${dir}/input.safetensors`, `${dir}/out.json`],
      stderr: "piped",
    }).output();
    assertEquals(code, 0, new TextDecoder().decode(stderr));
    const torch = JSON.parse(await Deno.readTextFile(`${dir}/out.json`));
    assertEquals(torch.metadata.iteration, "3");
    assertEquals(torch.metadata.network, "meshnet");
    const firstError = relativeMaxError(first.dataSync(), torch.first_conv);
    const logitError = relativeMaxError(logits.dataSync(), torch.logits);
    console.log(
      `PyTorch round trip: first conv rel. error ${firstError.toExponential(2)}, logits ${logitError.toExponential(2)}`,
    );
    assert(firstError <= 1e-5, `first conv relative error ${firstError}`);
    assert(logitError <= 1e-4, `logits relative error ${logitError}`);
    tf.dispose([x, logits, first]);
    store.dispose();
    await Deno.remove(dir, { recursive: true });
  },
});
