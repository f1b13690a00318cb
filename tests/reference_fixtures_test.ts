import { referencePythonAvailable } from "./_util.ts";

const REFERENCE_DIR = new URL("./reference/", import.meta.url);
const FIXTURE_DIR = new URL("./fixtures/", import.meta.url);
const scripts = [...Deno.readDirSync(REFERENCE_DIR)].map((e) => e.name).filter((n) => n.endsWith(".py")).sort();
const available = referencePythonAvailable(["numpy", "scipy", "torch", "nibabel", "skimage"]);
if (!available) {
  console.warn("reference fixtures: Debian python3 with numpy/scipy/torch/nibabel/skimage missing; not regenerated");
}

/** Compares two JSON values; numbers to 1e-5 relative (+1e-7 absolute), everything else exactly. */
function diff(a: unknown, b: unknown, path: string): string | undefined {
  if (typeof a === "number" && typeof b === "number") {
    return Math.abs(a - b) <= 1e-7 + 1e-5 * Math.abs(b) || (Number.isNaN(a) && Number.isNaN(b))
      ? undefined
      : `${path}: ${a} != ${b}`;
  }
  if (Array.isArray(a) && Array.isArray(b)) {
    if (a.length !== b.length) return `${path}: length ${a.length} != ${b.length}`;
    for (let i = 0; i < a.length; i++) {
      const d = diff(a[i], b[i], `${path}[${i}]`);
      if (d) return d;
    }
    return undefined;
  }
  if (a && b && typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a).sort(), kb = Object.keys(b).sort();
    if (ka.join() !== kb.join()) return `${path}: keys ${ka} != ${kb}`;
    for (const k of ka) {
      const d = diff((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k], `${path}.${k}`);
      if (d) return d;
    }
    return undefined;
  }
  return a === b ? undefined : `${path}: ${JSON.stringify(a)} != ${JSON.stringify(b)}`;
}

for (const script of scripts) {
  const name = script.replace(/\.py$/, "");
  Deno.test({
    name: `reference fixture ${name}.json matches a fresh run of tests/reference/${script}`,
    ignore: !available,
    fn: async () => {
      const out = await Deno.makeTempFile({ suffix: ".json" });
      try {
        const { code, stderr } = await new Deno.Command("/usr/bin/python3", {
          args: [new URL(script, REFERENCE_DIR).pathname, out],
          stdout: "null",
          stderr: "piped",
        }).output();
        if (code === 77) {
          // The script's inputs live outside the repository and are absent here (it said which on stderr).
          console.warn(`${script}: skipped, ${new TextDecoder().decode(stderr).trim()}`);
          return;
        }
        if (code !== 0) throw new Error(`${script} failed:\n${new TextDecoder().decode(stderr)}`);
        const fresh = JSON.parse(await Deno.readTextFile(out));
        const committed = JSON.parse(await Deno.readTextFile(new URL(`${name}.json`, FIXTURE_DIR)));
        const d = diff(fresh, committed, name);
        if (d) throw new Error(`fixture ${name}.json is stale: ${d}`);
      } finally {
        await Deno.remove(out);
      }
    },
  });
}
