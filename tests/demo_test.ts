import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { tf } from "../src/deps.ts";
import { useBackend } from "../src/backend.ts";
import { demoCommand, makePhantom } from "../src/commands/demo.ts";
import { readImage } from "../src/io/mod.ts";

await useBackend("cpu");

Deno.test("phantoms are deterministic, anisotropic, and contain every structure", () => {
  const a = makePhantom(1), b = makePhantom(1), c = makePhantom(2);
  assertEquals(a.image, b.image);
  assert(a.image.some((v, i) => v !== c.image[i]));
  assertEquals(new Set(a.labels), new Set([0, 1, 2, 3]));
  assertEquals(a.shape, [64, 64, 16]);
  assertEquals([a.affine[0][0], a.affine[1][1], a.affine[2][2]], [1.25, 1.25, 3]);
  // Partial volume: intensities between the tissue levels exist at boundaries.
  const levels = new Set(a.image.map((v) => Math.round(v * 20)));
  assert(levels.size > 20, `${levels.size} distinct intensity levels`);
});

Deno.test("the demo runs train → grid inference → Dice/HD95 through the driver and writes every output", async () => {
  const dir = await Deno.makeTempDir();
  const out = join(dir, "demo");
  const lines: string[] = [];
  const before = tf.memory().numTensors;
  const result = await demoCommand({
    out,
    iterations: 4,
    subjects: 4,
    shape: [16, 16, 8],
    window: [16, 16, 8],
    progressEvery: 2,
    log: (l) => lines.push(l),
  });
  assertEquals(tf.memory().numTensors, before, "the demo leaves no tensors behind");
  assert(lines.some((l) => /^iter 4\/4 {2}loss -?\d\.\d{4} {2}[\d.]+ it\/s {2}ETA/.test(l)), lines.join("\n"));
  for (const label of [1, 2, 3]) assert(label in result.dice, `Dice of structure ${label}`);
  for (const f of ["config.ini", "graph.html", "graph.json"]) assert(Deno.statSync(join(out, f)).isFile, f);
  assert(Deno.statSync(result.paths.csv).isFile);
  assert([...Deno.readDirSync(result.paths.logs)].length > 0, "TensorBoard logs");
  const outputs = [...Deno.readDirSync(result.paths.outputs)].map((e) => e.name).filter((n) => n.endsWith(".nii.gz"));
  assertEquals(outputs.length, 1, "a third of 4 subjects held out");
  const seg = await readImage(join(result.paths.outputs, outputs[0]));
  const input = await readImage(join(out, "data", outputs[0].replace("_niftynet_out", "_T1")));
  assertEquals(seg.affine, input.affine);
  for (const what of ["outputs:", "evaluation CSV:", "TensorBoard:", "network graph:"]) {
    assert(lines.some((l) => l.startsWith(what)), what);
  }
  // A second run replaces the demo folder; a foreign folder is refused.
  await Deno.mkdir(join(dir, "mine"));
  await Deno.writeTextFile(join(dir, "mine", "notes.txt"), "keep");
  await demoCommand({ out: join(dir, "mine"), log: () => {} }).then(
    () => assert(false, "should refuse"),
    (e) => assert(/was not made by the demo/.test(e.message), e.message),
  );
  assertEquals(await Deno.readTextFile(join(dir, "mine", "notes.txt")), "keep");
  await Deno.remove(dir, { recursive: true });
});
