import { deepEqual as assertEquals, equal, match, ok, rejects } from "node:assert/strict";
import { graphHtml, graphJson, nodeDefs, writeGraphFiles } from "../src/viz/mod.ts";
import { deepNet, toyNet } from "./_viz_samples.ts";
import { checkerAvailable, checkEventFile } from "./_viz_check.ts";

Deno.test("graphJson round-trips to an equal NetworkGraph and is byte-identical for key-permuted input", () => {
  const g = toyNet();
  const text = graphJson(g);
  assertEquals(JSON.parse(text), JSON.parse(JSON.stringify(g)));
  // Same graph with every object's keys reversed: the text must not change.
  const reversed = JSON.parse(
    JSON.stringify(g),
    (_k, v) => v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).reverse()) : v,
  );
  equal(graphJson(reversed), text);
});

Deno.test("graphJson is pretty: fixed key order, 2-space indent, shapes on one line, trailing newline", () => {
  const text = graphJson(toyNet());
  ok(
    text.startsWith(
      '{\n  "network": "ToyNet",\n  "inputs": [\n    {\n      "name": "input",\n      "shape": [1, 8, 8, 1]',
    ),
  );
  ok(text.endsWith("}\n"));
  match(text, /\n {4}"outputShapes": \[\[1, 8, 8, 4\]\],\n/);
  match(text, /"attrs": \{\n\s+"pad": "same",\n\s+"strides": "1,1"\n\s+\}/);
  const keys = [...text.matchAll(/^ {2}"(\w+)":/gm)].map((m) => m[1]);
  assertEquals(keys, ["network", "inputs", "outputShapes", "parameters", "trainableParameters", "root"]);
});

Deno.test({
  name: "writeGraphFiles writes graph.json, graph.html and a GraphDef event file atomically into a new folder",
  ignore: !checkerAvailable,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const g = toyNet();
      const out = `${dir}/a/b/graph`;
      const paths = await writeGraphFiles(g, out, { hostname: "ws1", now: () => 1_767_225_600_000 });
      assertEquals(paths, {
        json: `${out}/graph.json`,
        html: `${out}/graph.html`,
        events: `${out}/events.out.tfevents.1767225600.ws1`,
      });
      assertEquals([...Deno.readDirSync(out)].map((e) => e.name).sort(), [
        "events.out.tfevents.1767225600.ws1",
        "graph.html",
        "graph.json",
      ]);
      equal(await Deno.readTextFile(paths.json), graphJson(g));
      match(await Deno.readTextFile(paths.html), /^<!doctype html>/);
      const checked = await checkEventFile(paths.events);
      equal(checked.records, 2);
      equal(checked.events[0].file_version, "brain.Event:2");
      assertEquals(checked.events[1].graph_def!.nodes, JSON.parse(JSON.stringify(nodeDefs(g))));
      equal(checked.events[1].wall_time, 1_767_225_600);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test("writeGraphFiles fails on a bad graph before touching existing files", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await writeGraphFiles(deepNet(2), dir, { hostname: "h", now: () => 1e12 });
    const before = await Deno.readTextFile(`${dir}/graph.json`);
    const g = toyNet();
    const bad = { ...g, inputs: [{ name: "img", shape: [1, 8, 8, 1] }] };
    await rejects(writeGraphFiles(bad, dir, { hostname: "h", now: () => 2e12 }), /input "input" names no op/);
    equal(await Deno.readTextFile(`${dir}/graph.json`), before);
    equal([...Deno.readDirSync(dir)].length, 3, "no temp or new files left behind");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("a graph recorded by the DSL (ToyNet 3D) exports: every op input resolves, every path is drawn", async () => {
  const { recordGraph } = await import("../src/dsl/mod.ts");
  const { ToyNet } = await import("../networks/mod.ts");
  const g = recordGraph(new ToyNet({ numClasses: 4 }), [[1, 8, 8, 8, 2]]);
  const nodes = nodeDefs(g); // throws if an op input names no node
  const scopes = [g.root];
  let variables = 0, ops = 0;
  for (let i = 0; i < scopes.length; i++) {
    variables += scopes[i].variables.length;
    for (const c of scopes[i].children) {
      if (c.kind === "scope") scopes.push(c);
      else ops++;
    }
  }
  equal(nodes.length, g.inputs.length + variables + ops);
  const html = graphHtml(g, { expandDepth: 99 });
  for (const n of nodes) ok(html.includes(`data-id="${n.name}"`), `${n.name} drawn`);
  match(html, /<b id="parameters">636<\/b>/);
});
