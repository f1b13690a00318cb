/** The command line as a user runs it: separate processes, exit codes, printed lines, files written. */
import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";

const CLI = new URL("../cli.ts", import.meta.url).pathname;

async function cli(args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", "--quiet", CLI, ...args],
    stdout: "piped",
    stderr: "piped",
    env,
  }).output();
  return { code: out.code, stdout: new TextDecoder().decode(out.stdout), stderr: new TextDecoder().decode(out.stderr) };
}

Deno.test("cli graph toynet prints the parameter count and writes graph.json, graph.html and a TensorBoard event file", async () => {
  const dir = await Deno.makeTempDir();
  const r = await cli(["graph", "toynet", "--input-shape", "1,32,32,32,1", "--out", dir]);
  assertEquals(r.code, 0, r.stderr);
  assert(r.stderr.includes("backend: cpu"), r.stderr);
  // conv 27·1·10 + bn 4·10 + conv 10·2 + bn 4·2; moving mean/variance (24) are not trainable
  assert(r.stdout.includes("ToyNet: 338 parameters (314 trainable)"), r.stdout);
  const files = [...Deno.readDirSync(dir)].map((e) => e.name).sort();
  assertEquals(files.filter((f) => !f.startsWith("events.out.tfevents.")), ["graph.html", "graph.json"]);
  assertEquals(files.filter((f) => f.startsWith("events.out.tfevents.")).length, 1);
  const json = JSON.parse(await Deno.readTextFile(`${dir}/graph.json`));
  assertEquals(json.parameters, 338);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cli errors are one clear line with exit code 1: unknown network (did you mean), bad shape, missing file, bad backend", async () => {
  const typo = await cli(["graph", "toynett", "--input-shape", "1,8,8,8,1", "--out", "/tmp/unused"]);
  assertEquals(typo.code, 1);
  assert(typo.stderr.includes('unknown network "toynett"; did you mean "toynet"?'), typo.stderr);
  assert(!typo.stderr.includes("    at "), "no stack trace");
  const shape = await cli(["graph", "toynet", "--input-shape", "1,x,8"]);
  assert(shape.code !== 0);
  assert(shape.stderr.includes('--input-shape "1,x,8": expected comma-separated positive integers'), shape.stderr);
  const missing = await cli(["import-weights", "/nonexistent/model.json", "--out", "/tmp/x.safetensors"]);
  assertEquals(missing.code, 1);
  assert(missing.stderr.includes("/nonexistent/model.json"), missing.stderr);
  assert(!missing.stderr.includes("    at "), "no stack trace");
  const backend = await cli(["networks"], { NIFTYTS_BACKEND: "tpu" });
  assertEquals(backend.code, 0, "commands without tensors do not touch the backend");
  const graph = await cli(["graph", "toynet", "--input-shape", "1,8,8,8,1", "--out", "/tmp/unused"], {
    NIFTYTS_BACKEND: "tpu",
  });
  assertEquals(graph.code, 1);
  assert(
    graph.stderr.includes('unknown backend "tpu" (from NIFTYTS_BACKEND): expected one of cpu, wasm, webgpu'),
    graph.stderr,
  );
});

Deno.test("cli networks lists toynet and meshnet; --help describes every command", async () => {
  const list = await cli(["networks"]);
  assert(/^meshnet\s/m.test(list.stdout) && /^toynet\s/m.test(list.stdout), list.stdout);
  const help = await cli(["--help"]);
  for (const command of ["graph", "import-weights", "networks", "demo", "info", "convert", "evaluate"]) {
    assert(help.stdout.includes(command), command);
  }
});

Deno.test("cli convert reorients a NIfTI file and info reports the new axcodes; a bad flag is one clear line", async () => {
  const dir = await Deno.makeTempDir();
  const { writeNifti } = await import("../src/io/mod.ts");
  await writeNifti(
    `${dir}/in.nii.gz`,
    {
      data: new Float32Array(4 * 3 * 2).map((_, i) => i),
      shape: [4, 3, 2, 1, 1],
      ndim: 3,
      affine: [[-2, 0, 0, 10], [0, 1, 0, 0], [0, 0, 1.5, 0], [0, 0, 0, 1]],
      pixdim: [2, 1, 1.5],
      datatype: "float32",
      affineSource: "sform",
    } as import("../src/io/mod.ts").Image,
  );
  const converted = await cli(["convert", `${dir}/in.nii.gz`, `${dir}/ras.nii.gz`, "--axcodes", "RAS"]);
  assertEquals(converted.code, 0, converted.stderr);
  const info = await cli(["info", `${dir}/ras.nii.gz`]);
  assertEquals(info.code, 0, info.stderr);
  assert(/axcodes\s+RAS/.test(info.stdout), info.stdout);
  assert(/dimensions\s+4 x 3 x 2/.test(info.stdout), info.stdout);
  const bad = await cli(["convert", `${dir}/in.nii.gz`, `${dir}/x.nii.gz`, "--pixdim", "1,x,1"]);
  assertEquals(bad.code, 1);
  assert(bad.stderr.includes('invalid --pixdim "1,x,1"'), bad.stderr);
  assertEquals((await Array.fromAsync(Deno.readDir(dir))).map((e) => e.name).sort(), ["in.nii.gz", "ras.nii.gz"]);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("cli --backend: a bad name is one line; info, convert, networks and config-keys accept it; graph builds GANs", async () => {
  const bad = await cli(["graph", "toynet", "--input-shape", "1,8,8,8,1", "--backend", "nonsense"]);
  assertEquals(bad.code, 1);
  assertEquals(bad.stderr.trim().split("\n").length, 1, bad.stderr);
  assert(
    bad.stderr.includes('unknown backend "nonsense" (from --backend): expected one of cpu, wasm, webgpu'),
    bad.stderr,
  );
  const networks = await cli(["networks", "--backend", "cpu"]);
  assertEquals(networks.code, 0, networks.stderr);
  const dir = await Deno.makeTempDir();
  const { encodeNifti1 } = await import("../src/io/mod.ts");
  await Deno.writeFile(
    `${dir}/in.nii`,
    encodeNifti1({
      data: new Float32Array(8),
      shape: [2, 2, 2, 1, 1],
      ndim: 3,
      affine: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]],
      pixdim: [1, 1, 1],
      datatype: "float32",
      affineSource: "sform",
    }),
  );
  const info = await cli(["info", `${dir}/in.nii`, "--backend", "wasm"]);
  assertEquals(info.code, 0, info.stderr);
  const convert = await cli(["convert", `${dir}/in.nii`, `${dir}/out.nii`, "--backend", "cpu"]);
  assertEquals(convert.code, 0, convert.stderr);
  const pixdim = await cli(["convert", `${dir}/in.nii`, `${dir}/tiny.nii`, "--pixdim", "0.0001"]);
  assertEquals(pixdim.code, 1);
  assert(pixdim.stderr.includes("--pixdim 0.0001,0.0001,0.0001: the output would be 10001x10001x10001"), pixdim.stderr);
  const gan = await cli(["graph", "simple_gan", "--input-shape", "1,64,64,1", "--out", dir]);
  assertEquals(gan.code, 0, gan.stderr);
  assert(gan.stdout.includes("input [1,100] + [1,64,64,1] → output [1,64,64,1]"), gan.stdout);
  const odd = await cli(["graph", "simple_gan", "--input-shape", "1,30,30,1", "--out", dir]);
  assertEquals(odd.code, 1);
  assert(odd.stderr.includes("cannot build simple_gan on noise [1,100] and images [1,30,30,1]"), odd.stderr);
  await Deno.remove(dir, { recursive: true });
});
