import { deepEqual as assertEquals, doesNotThrow, equal, match, ok } from "node:assert/strict";
import type { NetworkGraph } from "../src/dsl/graph_types.ts";
import { loadPlaywrightCore } from "../src/deps_deno.ts";
import { graphHtml, type GraphLayout, type LayoutBox, layoutGraph } from "../src/viz/mod.ts";
import { allScopes, deepNet, op, scope, toyNet } from "./_viz_samples.ts";
import { referencePythonAvailable } from "./_util.ts";

/** Every path in the graph: inputs, scopes, variables, ops. */
function allPaths(g: NetworkGraph): string[] {
  const out = g.inputs.map((i) => i.name);
  for (const s of allScopes(g)) {
    out.push(s.path, ...s.variables.map((v) => v.path));
    for (const c of s.children) if (c.kind === "op") out.push(c.path);
  }
  return out;
}

const box = (l: GraphLayout, id: string): LayoutBox => {
  const b = l.boxes.find((b) => b.id === id);
  if (!b) throw new Error(`no box "${id}"`);
  return b;
};
const inside = (a: LayoutBox, p: LayoutBox) =>
  a.x >= p.x && a.y >= p.y && a.x + a.width <= p.x + p.width && a.y + a.height <= p.y + p.height;
const overlap = (a: LayoutBox, b: LayoutBox) =>
  a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
const isAncestor = (p: string, c: string) => c.startsWith(p + "/");

Deno.test("layoutGraph with only the root open shows its children collapsed and merges edges per visible pair", () => {
  const g = toyNet();
  const l = layoutGraph(g, ["ToyNet"]);
  assertEquals(l.boxes.map((b) => b.id).sort(), [
    "ToyNet",
    "ToyNet/Const",
    "ToyNet/Mul",
    "ToyNet/Sigmoid",
    "ToyNet/conv_0",
    "ToyNet/res_1",
    "ToyNet/shared",
    "input",
  ]);
  const edges = l.edges.map((e) => `${e.from} -> ${e.to} x${e.count}`).sort();
  assertEquals(edges, [
    "ToyNet/Const -> ToyNet/Mul x1",
    "ToyNet/Mul -> ToyNet/Sigmoid x1",
    "ToyNet/conv_0 -> ToyNet/res_1 x2", // into conv_a and into the skip Add
    "ToyNet/res_1 -> ToyNet/shared x1",
    "ToyNet/shared -> ToyNet/Mul x1",
    "input -> ToyNet/conv_0 x1",
  ]);
  const shared = box(l, "ToyNet/shared");
  assertEquals(shared.lines, ["+ shared ×2", "ConvLayer", "[1,8,8,4] · 16 params"]);
  ok(!shared.expanded && shared.expandable);
});

Deno.test("layoutGraph fully open: every node drawn, children inside parents, no two unrelated boxes overlap", () => {
  for (const g of [toyNet(), deepNet(3)]) {
    const paths = allPaths(g);
    const l = layoutGraph(g, allScopes(g).map((s) => s.path));
    assertEquals(l.boxes.map((b) => b.id).sort(), [...paths].sort());
    for (const a of l.boxes) {
      ok(a.x >= 0 && a.y >= 0 && a.x + a.width <= l.width && a.y + a.height <= l.height, `${a.id} on canvas`);
      const parentPath = a.id.includes("/") ? a.id.slice(0, a.id.lastIndexOf("/")) : null;
      if (parentPath) ok(inside(a, box(l, parentPath)), `${a.id} inside ${parentPath}`);
      for (const b of l.boxes) {
        if (a === b || isAncestor(a.id, b.id) || isAncestor(b.id, a.id)) continue;
        ok(!overlap(a, b), `${a.id} overlaps ${b.id}`);
      }
    }
    // Each recorded producer → consumer pair is one edge when everything is open.
    const pairs = new Set<string>();
    for (const s of allScopes(g)) {
      for (const c of s.children) if (c.kind === "op") { for (const i of c.inputs) pairs.add(`${i} -> ${c.path}`); }
    }
    assertEquals(l.edges.map((e) => `${e.from} -> ${e.to}`).sort(), [...pairs].sort());
  }
});

Deno.test("layoutGraph ranks siblings by data flow: a chain stacks downwards, parallel branches share a row", () => {
  const l = layoutGraph(toyNet(), ["ToyNet", "ToyNet/res_1"]);
  const y = (id: string) => box(l, id).y;
  ok(y("ToyNet/res_1/conv_a") < y("ToyNet/res_1/conv_b") && y("ToyNet/res_1/conv_b") < y("ToyNet/res_1/Add"));
  const s: number[] = [1, 4];
  const t = (path: string) => ({ path, shape: s });
  const root = scope("Fork", "Fork", {
    children: [
      op("Fork/A", "Relu", [t("x")], s),
      op("Fork/B", "Exp", [t("x")], s),
      op("Fork/C", "Add", [t("Fork/A"), t("Fork/B")], s),
    ],
    inputShapes: [s],
    outputShapes: [s],
  });
  const fork: NetworkGraph = {
    network: "Fork",
    inputs: [{ name: "x", shape: s }],
    outputShapes: [s],
    parameters: 0,
    trainableParameters: 0,
    root,
  };
  const f = layoutGraph(fork, ["Fork"]);
  equal(box(f, "Fork/A").y, box(f, "Fork/B").y);
  ok(box(f, "Fork/C").y > box(f, "Fork/A").y + box(f, "Fork/A").height);
});

Deno.test("layoutGraph routes an edge that would cross a box around it (the residual skip passes right of conv_a)", () => {
  const l = layoutGraph(toyNet(), ["ToyNet", "ToyNet/res_1", "ToyNet/res_1/conv_a"]);
  const skip = l.edges.find((e) => e.from === "ToyNet/conv_0" && e.to === "ToyNet/res_1/Add")!;
  const convA = box(l, "ToyNet/res_1/conv_a");
  ok(skip.detourX !== null && skip.detourX >= convA.x + convA.width, "skip edge detours right of conv_a");
  const direct = l.edges.find((e) => e.from === "ToyNet/res_1/conv_b" && e.to === "ToyNet/res_1/Add")!;
  equal(direct.detourX, null);
});

Deno.test("graphHtml header shows network name and total / trainable parameters", () => {
  const html = graphHtml(toyNet());
  match(html, /<h1 id="network">ToyNet<\/h1>/);
  match(html, /parameters <b id="parameters">376<\/b> · trainable <b id="trainable">360<\/b>/);
  match(graphHtml(deepNet(24)), /<b id="parameters">29,304<\/b> · trainable <b id="trainable">28,520<\/b>/);
});

Deno.test("graphHtml fully open lists every scope, variable and op path; by default the root's children are toggles", () => {
  const g = toyNet();
  const open = graphHtml(g, { expandDepth: 99 });
  for (const p of allPaths(g)) ok(open.includes(`data-id="${p}"`), `path ${p} drawn`);
  const closed = graphHtml(g);
  for (const c of g.root.children) {
    if (c.kind === "scope") ok(closed.includes(`data-toggle="${c.path}"`), `${c.path} is a toggle`);
  }
  ok(!closed.includes('data-id="ToyNet/res_1/conv_a"'), "nested scope hidden until opened");
  match(closed, /data-id="ToyNet\/shared"[^]*?16 params/);
});

Deno.test("graphHtml is self-contained and its inline script parses", () => {
  const html = graphHtml(deepNet(20));
  for (const bad of [/https?:\/\//, /<link\b/i, /\ssrc=/i, /\shref=/i, /@import/, /url\((?!#arrow\))/]) {
    ok(!bad.test(html), `page must not match ${bad}`);
  }
  const scripts = [...html.matchAll(/<script>([\s\S]*?)<\/script>/g)];
  equal(scripts.length, 1);
  doesNotThrow(() => new Function(scripts[0][1]));
});

Deno.test("graphHtml escapes names: a network called </script><img> cannot break out of the page", () => {
  const g = toyNet();
  const evil = "Evil</script><img onerror=x>&";
  const html = graphHtml({ ...g, network: evil, root: { ...g.root, name: evil } });
  equal(html.split("</script>").length, 2);
  ok(!html.includes("<img"));
  match(html, /<h1 id="network">Evil&lt;\/script&gt;&lt;img onerror=x&gt;&amp;<\/h1>/);
});

Deno.test({
  name: "graphHtml SVG is well-formed XML (parsed by Python's xml.etree)",
  ignore: !referencePythonAvailable([]),
  fn: async () => {
    const html = graphHtml(toyNet(), { expandDepth: 99 });
    const svg = html.slice(html.indexOf("<svg"), html.indexOf("</svg>") + 6);
    const proc = new Deno.Command("/usr/bin/python3", {
      args: [
        "-c",
        "import sys, xml.etree.ElementTree as E; r = E.fromstring(sys.stdin.read()); print(r.tag, len(r.findall('.//g')))",
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    const w = proc.stdin.getWriter();
    await w.write(new TextEncoder().encode(svg));
    await w.close();
    const { code, stdout, stderr } = await proc.output();
    equal(code, 0, new TextDecoder().decode(stderr));
    match(new TextDecoder().decode(stdout), /^svg \d+/);
  },
});

const CHROMIUM = "/usr/bin/chromium";
const haveChromium = (() => {
  try {
    return Deno.statSync(CHROMIUM).isFile;
  } catch {
    return false;
  }
})();
if (!haveChromium) console.warn(`graph.html browser test skipped: ${CHROMIUM} missing (Debian package "chromium")`);

Deno.test({
  name: "graph.html in headless Chromium: clicking a scope opens and closes it, expand all shows every node",
  ignore: !haveChromium,
  sanitizeResources: false,
  sanitizeOps: false,
  fn: async () => {
    const g = toyNet();
    const dir = await Deno.makeTempDir();
    const { chromium } = await loadPlaywrightCore();
    const ctx = await chromium.launchPersistentContext(`${dir}/profile`, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
      ],
    });
    try {
      await Deno.writeTextFile(`${dir}/graph.html`, graphHtml(g));
      const page = await ctx.newPage();
      const errors: string[] = [];
      page.on("pageerror", (e) => errors.push(e.message));
      await page.goto(`file://${dir}/graph.html`);
      const ids = () => page.$$eval("[data-id]", (els) => els.map((e) => e.getAttribute("data-id")!).sort());
      equal((await ids()).length, layoutGraph(g, ["ToyNet"]).boxes.length);

      await page.click('[data-toggle="ToyNet/res_1"]');
      await page.waitForSelector('[data-id="ToyNet/res_1/conv_a"]', { timeout: 5000 });
      ok((await ids()).includes("ToyNet/res_1/Add"));
      await page.click('[data-toggle="ToyNet/res_1"]'); // the open scope's header closes it
      await page.waitForSelector('[data-id="ToyNet/res_1/conv_a"]', { state: "detached", timeout: 5000 });

      await page.click("#expand-all");
      assertEquals(await ids(), allPaths(g).sort());
      await page.selectOption("#zoom", "0.5");
      const [w, vb] = await page.$eval("svg.graph", (s) => [s.getAttribute("width"), s.getAttribute("viewBox")]);
      const full = Number(vb!.split(" ")[2]);
      ok(Math.abs(Number(w) - full / 2) <= 0.1, `zoomed width ${w} is half of ${full}`);
      assertEquals(errors, []);
    } finally {
      await ctx.close();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
