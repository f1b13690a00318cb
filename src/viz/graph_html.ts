/**
 * A self-contained HTML page (inline CSS, SVG and script; no external resources) showing a recorded network as
 * collapsible scope boxes.
 *
 * @module
 */
import type { GraphScope, NetworkGraph } from "../dsl/graph_types.ts";
import { layoutGraph, renderSvg } from "./graph_layout.ts";

/** Options for {@link graphHtml}. */
export interface GraphHtmlOptions {
  /** Scopes shallower than this start open (1 = only the network's own scope). */
  readonly expandDepth?: number;
}

/**
 * An HTML page drawing the network's scope tree as SVG: each scope a box (name, layer type, output shape,
 * parameter count) that opens on click to show its variables, ops and child scopes, with data-flow edges between
 * the visible nodes and a header with the network name and total / trainable parameters. The picture is already
 * in the page (readable without script); the inline script only redraws it on clicks.
 *
 * @example
 * ```ts
 * await Deno.writeTextFile("graph.html", graphHtml(graph));
 * ```
 */
export function graphHtml(graph: NetworkGraph, options: GraphHtmlOptions = {}): string {
  const expandDepth = options.expandDepth ?? 1;
  const expanded: string[] = [];
  const visit = (s: GraphScope, depth: number): void => {
    if (depth < expandDepth) expanded.push(s.path);
    for (const c of s.children) if (c.kind === "scope") visit(c, depth + 1);
  };
  visit(graph.root, 0);
  const svg = renderSvg(layoutGraph(graph, expanded), { zoom: 1 });
  const fmtInt = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const shapes = (ss: readonly (readonly number[])[]) => ss.map((s) => `[${s.join(",")}]`).join(" ");
  const inputs = graph.inputs.map((i) => `${i.name} [${i.shape.join(",")}]`).join(", ");
  // JSON inside <script>: escaping "<" keeps "</script>" or "<!--" in a name from ending the element.
  const data = JSON.stringify(graph).replace(/</g, "\\u003c");
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(graph.network)} · NiftyTS graph</title>
<style>
body { margin: 0; font: 14px system-ui, sans-serif; color: #223; background: #fafbfc; }
header { position: sticky; top: 0; z-index: 1; padding: 10px 16px; background: #fff; border-bottom: 1px solid #dde; }
h1 { margin: 0 0 4px; font-size: 20px; }
.stats { color: #445; }
.stats b { color: #223; }
.controls { margin-top: 6px; display: flex; gap: 8px; align-items: center; font-size: 13px; color: #556; }
button, select { font: inherit; }
#canvas { padding: 8px; overflow: auto; }
#canvas svg { display: block; }
.node.scope:not(.open):hover rect, .toggle:hover rect { stroke-width: 2.5; }
.edge:hover path { stroke: #c33; stroke-width: 2; }
</style>
</head>
<body>
<header>
<h1 id="network">${esc(graph.network)}</h1>
<div class="stats">parameters <b id="parameters">${fmtInt(graph.parameters)}</b> · trainable <b id="trainable">${
    fmtInt(graph.trainableParameters)
  }</b> · inputs ${esc(inputs)} · outputs ${esc(shapes(graph.outputShapes))}</div>
<div class="controls"><button id="expand-all" type="button">expand all</button><button id="collapse-all" type="button">collapse all</button>
<label>zoom <select id="zoom"><option value="0.5">50%</option><option value="0.75">75%</option><option value="1" selected>100%</option><option value="1.5">150%</option></select></label>
<span>click a scope to open or close it; hover a box or an edge for details</span></div>
</header>
<main id="canvas">
${svg}
</main>
<script>
"use strict";
const GRAPH = ${data};
${layoutGraph.toString()}
${renderSvg.toString()}
(() => {
  const canvas = document.getElementById("canvas");
  const all = [];
  const collect = (s) => {
    all.push(s.path);
    for (const c of s.children) if (c.kind === "scope") collect(c);
  };
  collect(GRAPH.root);
  let expanded = new Set(${JSON.stringify(expanded).replace(/</g, "\\u003c")});
  let zoom = 1;
  const draw = () => {
    canvas.innerHTML = renderSvg(layoutGraph(GRAPH, [...expanded]), { zoom });
  };
  canvas.addEventListener("click", (ev) => {
    const target = ev.target instanceof Element ? ev.target.closest("[data-toggle]") : null;
    if (!target) return;
    const id = target.getAttribute("data-toggle");
    if (expanded.has(id)) expanded.delete(id);
    else expanded.add(id);
    draw();
  });
  document.getElementById("expand-all").addEventListener("click", () => {
    expanded = new Set(all);
    draw();
  });
  document.getElementById("collapse-all").addEventListener("click", () => {
    expanded = new Set([GRAPH.root.path]);
    draw();
  });
  document.getElementById("zoom").addEventListener("change", (ev) => {
    zoom = Number(ev.target.value);
    draw();
  });
})();
</script>
</body>
</html>
`;
}

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}
