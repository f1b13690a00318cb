import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { applyNetwork, saveCheckpoint, VariableStore } from "../src/dsl/mod.ts";
import { writeSafetensors } from "../src/weights/mod.ts";
import { HighRes3DNet, NoNewNet, UNet3D, VNet } from "../networks/mod.ts";
import { referencePythonAvailable, relativeMaxError } from "./_util.ts";

await useBackend("cpu");
const available = referencePythonAvailable(["numpy", "torch"]);
if (!available) console.warn("network forward vs PyTorch skipped: /usr/bin/python3 with numpy and torch is missing");

/** Gives batch norm non-trivial moving statistics and scales/shifts, and prelu non-zero slopes (seeded). */
function perturb(store: VariableStore, seed: number): void {
  let k = seed;
  tf.tidy(() => {
    for (const r of store.records()) {
      const name = r.path.slice(r.path.lastIndexOf("/") + 1);
      const u = tf.randomUniform(r.shape as number[], 0, 1, "float32", k++);
      if (name === "moving_mean" || name === "beta") r.variable.assign(tf.mul(tf.sub(u, 0.5), 0.4));
      else if (name === "moving_variance" || name === "gamma") r.variable.assign(tf.add(u, 0.5));
      else if (name === "alpha") r.variable.assign(tf.mul(u, 0.3));
    }
  });
}

async function compareWithTorch(
  net: HighRes3DNet | UNet3D | VNet | NoNewNet,
  network: string,
  inputShape: number[],
  extra: string[],
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const store = new VariableStore({ seed: 5 });
  const x = tf.randomNormal(inputShape, 0, 1, "float32", 9);
  try {
    tf.tidy(() => void applyNetwork(net, [x], { store }));
    perturb(store, 100);
    const y = tf.tidy(() => applyNetwork(net, [x], { store, training: false }));
    await saveCheckpoint(`${dir}/model.safetensors`, store, { network });
    await writeSafetensors(
      `${dir}/input.safetensors`,
      new Map([["input", { dtype: "float32", shape: x.shape, data: x.dataSync() as Float32Array }]]),
    );
    const script = new URL("./reference/checkers/networks_torch_forward.py", import.meta.url).pathname;
    const { code, stderr } = await new Deno.Command("/usr/bin/python3", {
      args: [script, network, `${dir}/model.safetensors`, `${dir}/input.safetensors`, `${dir}/out.json`, ...extra],
      stderr: "piped",
    }).output();
    assertEquals(code, 0, new TextDecoder().decode(stderr));
    const torch = JSON.parse(await Deno.readTextFile(`${dir}/out.json`));
    assertEquals(torch.shape, y.shape);
    assertEquals(torch.unused, []);
    assertEquals(torch.parameters, store.parameterCount({ trainableOnly: true }));
    const error = relativeMaxError(y.dataSync(), torch.output);
    console.log(`${network} forward vs PyTorch: relative max error ${error.toExponential(2)}`);
    assert(error <= 1e-4, `relative error ${error}`);
    y.dispose();
  } finally {
    x.dispose();
    store.dispose();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test({
  name: "HighRes3DNet inference (batch norm with moving statistics, prelu) matches a PyTorch build of it to 1e-4",
  ignore: !available,
  fn: () => compareWithTorch(new HighRes3DNet({ numClasses: 3 }), "highres3dnet", [1, 16, 16, 16, 1], []),
});

Deno.test({
  name: "3D U-Net inference (batch norm with moving statistics, prelu, crop) matches a PyTorch build of it to 1e-4",
  ignore: !available,
  fn: () =>
    compareWithTorch(
      new UNet3D({ numClasses: 2, nFeatures: [4, 6, 8, 10, 12], border: 2 }),
      "unet",
      [1, 16, 16, 16, 2],
      ["4,6,8,10,12", "2"],
    ),
});

Deno.test({
  name: "V-Net (narrow, 5³ residual blocks, transposed convs with bias) matches a PyTorch build of it to 1e-4",
  ignore: !available,
  fn: () =>
    compareWithTorch(new VNet({ numClasses: 2, nFeatures: [2, 3, 4, 5, 6] }), "vnet", [1, 16, 16, 16, 1], [
      "2,3,4,5,6",
    ]),
});

Deno.test({
  name: "No New-Net (narrow, instance norm, leaky relu, TF1 linear upsampling) matches a PyTorch build of it to 1e-4",
  ignore: !available,
  fn: () =>
    compareWithTorch(new NoNewNet({ numClasses: 2, nFeatures: [2, 3, 4, 5, 6] }), "nonewnet", [1, 32, 16, 16, 1], [
      "2,3,4,5,6",
    ]),
});
