/** The README's DSL example is real code: extract it and run it in a separate process from the repository root. */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";

const ROOT = new URL("../", import.meta.url).pathname;

Deno.test("the README's new-network example runs, trains, shares weights and writes a checkpoint", async () => {
  const readme = await Deno.readTextFile(`${ROOT}README.md`);
  const match = readme.match(/<!-- example: new-network[^>]*-->\s*```ts\n([\s\S]*?)```/);
  assert(match, "README lost its new-network example");
  const dir = await Deno.makeTempDir({ dir: ROOT, prefix: ".readme_example_" });
  try {
    await Deno.writeTextFile(`${dir}/example.ts`, match[1].replaceAll('"./mod.ts"', '"../mod.ts"'));
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--quiet", "example.ts"],
      cwd: dir,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    assertEquals(out.code, 0, new TextDecoder().decode(out.stderr));
    const losses = [...stdout.matchAll(/step \d loss ([\d.]+)/g)].map((m) => Number(m[1]));
    assertEquals(losses.length, 5);
    assert(losses[4] < losses[0], `loss did not decrease: ${losses}`);
    assert(stdout.includes("TinyResNet/res_bn_relu/conv_/w"), stdout);
    assert(!stdout.includes("res_bn_relu_1"), "the shared block must not be duplicated");
    // stem 27·8 + bn 32, res 27·64 + bn 32, head 8·3 + 3
    assert(stdout.includes(`${216 + 32 + 1728 + 32 + 24 + 3} parameters`), stdout);
    assert((await Deno.stat(`${dir}/tiny.safetensors`)).size > 0);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
