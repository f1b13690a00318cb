import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { tf } from "../src/deps.ts";
import { demoCommand, makePhantom } from "../src/commands/demo.ts";

Deno.test("phantoms are deterministic and contain all three labels", () => {
  const a = makePhantom(16, 1), b = makePhantom(16, 1), c = makePhantom(16, 2);
  assertEquals(a.image, b.image);
  assert(a.image.some((v, i) => v !== c.image[i]));
  assertEquals(new Set(a.labels), new Set([0, 1, 2]));
});

Deno.test("the demo trains ToyNet to a useful Dice, reloads its checkpoint identically and writes the graph", async () => {
  const dir = await Deno.makeTempDir();
  const lines: string[] = [];
  const before = tf.memory().numTensors;
  const { dice } = await demoCommand({ out: dir, iterations: 45, size: 16, log: (l) => lines.push(l) });
  assertEquals(tf.memory().numTensors, before, "the demo leaves no tensors behind");
  assert(dice[0] > 0.8 && dice[1] > 0.5, `Dice ${dice}`);
  assert(lines.some((l) => /^iter 40\/45 {2}loss \d\.\d{4} {2}[\d.]+ it\/s {2}ETA/.test(l)), lines.join("\n"));
  assert(lines.some((l) => l.includes("reloaded predictions identical: true")));
  const files = [...Deno.readDirSync(dir)].map((e) => e.name);
  for (const f of ["graph.html", "graph.json", "model.safetensors"]) assert(files.includes(f), f);
  await Deno.remove(dir, { recursive: true });
});
