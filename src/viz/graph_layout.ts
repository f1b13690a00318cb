/**
 * Layout and SVG rendering of the collapsible scope view used by `graphHtml`. Both functions are embedded into the
 * HTML page as source text (`Function.prototype.toString`), so each must be self-contained: no references to
 * anything outside its own body.
 *
 * @module
 */
import type { NetworkGraph } from "../dsl/graph_types.ts";

/** A drawn node. Coordinates are absolute, in SVG user units (px at 100% zoom). */
export interface LayoutBox {
  /** Node path (scope, op or variable path, or input name). */
  readonly id: string;
  /** What the box stands for. */
  readonly kind: "scope" | "op" | "variable" | "input";
  /** Scopes only: drawn open, with their contents inside. */
  readonly expanded: boolean;
  /** Scopes only: whether it has anything to expand. */
  readonly expandable: boolean;
  /** Scope nesting depth (root 0); inputs −1. */
  readonly depth: number;
  /** Left edge. */
  readonly x: number;
  /** Top edge. */
  readonly y: number;
  /** Box width. */
  readonly width: number;
  /** Box height. */
  readonly height: number;
  /** Text lines; the first is the name. For an open scope a single header line. */
  readonly lines: readonly string[];
  /** Tooltip text. */
  readonly title: string;
}

/** A data-flow edge between two drawn nodes. */
export interface LayoutEdge {
  /** Id of the producing box. */
  readonly from: string;
  /** Id of the consuming box. */
  readonly to: string;
  /** Shape of the (first) tensor along the edge, e.g. `[1,8,8,4]`. */
  readonly shape: string;
  /** Text drawn next to the edge: its shape, once per producer (empty for the others). */
  readonly label: string;
  /** How many recorded tensors the edge stands for. */
  readonly count: number;
  /** Start x, on the bottom of `from`. */
  readonly x1: number;
  /** Start y (bottom of `from`). */
  readonly y1: number;
  /** End x, on the top of `to`. */
  readonly x2: number;
  /** End y (top of `to`). */
  readonly y2: number;
  /** When set, the edge runs down the vertical line x = detourX to avoid crossing boxes. */
  readonly detourX: number | null;
}

/** The whole drawing. */
export interface GraphLayout {
  /** Canvas width. */
  readonly width: number;
  /** Canvas height. */
  readonly height: number;
  /** Parents before children, so drawing in order puts children on top. */
  readonly boxes: readonly LayoutBox[];
  /** Edges, drawn above the boxes. */
  readonly edges: readonly LayoutEdge[];
}

/**
 * Lays out a network's scope tree with the scopes in `expanded` drawn open: inside an open scope its variables
 * form the first row, then its children are ranked by data flow (a child sits one row below the latest earlier
 * sibling it consumes from, so parallel branches share a row). Edges join the innermost visible nodes
 * holding each producer and consumer.
 *
 * @example
 * ```ts
 * const layout = layoutGraph(graph, [graph.root.path]);
 * ```
 */
export function layoutGraph(graph: NetworkGraph, expanded: readonly string[]): GraphLayout {
  const CHAR_W = 6.7, LINE_H = 14, PAD = 10, GAP_X = 16, GAP_Y = 30, HEADER_H = 24, MARGIN = 16;
  const open = new Set(expanded);
  const fmtShape = (s: readonly number[]) => "[" + s.join(",") + "]";
  const fmtShapes = (ss: readonly (readonly number[])[]) => ss.map(fmtShape).join(" ");
  const fmtInt = (n: number) => String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
  const textW = (lines: readonly string[]) => Math.max(...lines.map((l) => l.length)) * CHAR_W + 2 * PAD;

  // Items of the tree: every scope, op, variable and input, with its chain of ancestors (paths, root first).
  interface Item {
    id: string;
    kind: "scope" | "op" | "variable" | "input";
    chain: string[];
    node: unknown;
    children: Item[];
  }
  const items = new Map<string, Item>();
  const add = (item: Item) => {
    items.set(item.id, item);
    return item;
  };
  const inputs = graph.inputs.map((i) => add({ id: i.name, kind: "input", chain: [i.name], node: i, children: [] }));
  type Scope = NetworkGraph["root"];
  const buildScope = (s: Scope, parentChain: string[]): Item => {
    const chain = [...parentChain, s.path];
    const item = add({ id: s.path, kind: "scope", chain, node: s, children: [] });
    for (const v of s.variables) {
      item.children.push(add({ id: v.path, kind: "variable", chain: [...chain, v.path], node: v, children: [] }));
    }
    for (const c of s.children) {
      item.children.push(
        c.kind === "scope"
          ? buildScope(c, chain)
          : add({ id: c.path, kind: "op", chain: [...chain, c.path], node: c, children: [] }),
      );
    }
    return item;
  };
  const root = buildScope(graph.root, []);

  // Tensor edges between leaves (producer → consuming op), with the tensor's shape.
  const leafEdges: { from: Item; to: Item; label: string }[] = [];
  for (const item of items.values()) {
    if (item.kind !== "op") continue;
    const op = item.node as { inputs: readonly string[]; inputShapes: readonly (readonly number[])[] };
    op.inputs.forEach((input, k) => {
      const from = items.get(input.replace(/^\^/, "").replace(/:\d+$/, ""));
      const shape = op.inputShapes[k];
      if (from) leafEdges.push({ from, to: item, label: shape ? fmtShape(shape) : "" });
    });
  }

  const isOpen = (item: Item) => item.kind === "scope" && open.has(item.id) && item.children.length > 0;
  const visibleOf = (leaf: Item): string => {
    for (let d = 0; d < leaf.chain.length - 1; d++) if (!isOpen(items.get(leaf.chain[d])!)) return leaf.chain[d];
    return leaf.id;
  };

  // Relative layout, bottom-up: each laid-out node knows its size and its children's offsets.
  interface Placed {
    item: Item;
    w: number;
    h: number;
    lines: string[];
    kids: { p: Placed; dx: number; dy: number }[];
  }
  const rowsLayout = (rows: Placed[][], minW: number, top: number) => {
    const rowW = rows.map((r) => r.reduce((s, p) => s + p.w, 0) + GAP_X * (r.length - 1));
    const w = Math.max(minW, ...rowW);
    const kids: { p: Placed; dx: number; dy: number }[] = [];
    let y = top;
    rows.forEach((r, i) => {
      let x = (w - rowW[i]) / 2;
      const rh = Math.max(...r.map((p) => p.h));
      for (const p of r) {
        kids.push({ p, dx: x, dy: y });
        x += p.w + GAP_X;
      }
      y += rh + GAP_Y;
    });
    return { w, h: y - GAP_Y, kids };
  };
  const place = (item: Item): Placed => {
    const n = item.node as Record<string, unknown>;
    if (item.kind !== "scope") {
      const shape = item.kind === "op" ? fmtShapes(n.outputShapes as number[][]) : fmtShape(n.shape as number[]);
      const lines = [item.kind === "op" ? String(n.op) : String(n.name), shape];
      if (item.kind === "op" && n.name !== n.op) lines[0] = String(n.name);
      return { item, w: textW(lines), h: 2 * LINE_H + PAD, lines, kids: [] };
    }
    const calls = n.calls as number;
    const name = String(n.name) + (calls > 1 ? " ×" + calls : "");
    const params = fmtInt(n.parameters as number) + " params";
    if (!isOpen(item)) {
      const lines = [
        (item.children.length ? "+ " : "") + name,
        String(n.layerType),
        fmtShapes(n.outputShapes as number[][]) + " · " + params,
      ];
      return { item, w: textW(lines), h: 3 * LINE_H + PAD, lines, kids: [] };
    }
    const header = "− " + name + " · " + String(n.layerType) + " · " + params;
    // Rank the children by data flow between siblings; variables take the first row.
    const d = item.chain.length - 1;
    const order = new Map(item.children.map((c, i) => [c.id, i]));
    const hasVars = item.children.some((c) => c.kind === "variable");
    const rank = new Map<string, number>();
    for (const c of item.children) rank.set(c.id, c.kind === "variable" ? 0 : hasVars ? 1 : 0);
    const sib = new Map<string, Set<string>>();
    for (const e of leafEdges) {
      if (e.from.chain[d] !== item.id || e.to.chain[d] !== item.id) continue;
      const a = e.from.chain[d + 1], b = e.to.chain[d + 1];
      if (a === b || order.get(a)! >= order.get(b)! || items.get(a)!.kind === "variable") continue;
      if (!sib.has(b)) sib.set(b, new Set());
      sib.get(b)!.add(a);
    }
    for (const c of item.children) {
      for (const a of sib.get(c.id) ?? []) rank.set(c.id, Math.max(rank.get(c.id)!, rank.get(a)! + 1));
    }
    const rows: Placed[][] = [];
    for (const c of item.children) (rows[rank.get(c.id)!] ??= []).push(place(c));
    const inner = rowsLayout(rows.filter((r) => r), textW([header]) - 2 * PAD, HEADER_H + PAD);
    for (const k of inner.kids) k.dx += PAD;
    return { item, w: inner.w + 2 * PAD, h: inner.h + PAD, lines: [header], kids: inner.kids };
  };
  const top = rowsLayout(inputs.length ? [inputs.map(place), [place(root)]] : [[place(root)]], 0, MARGIN);
  for (const k of top.kids) k.dx += MARGIN;

  // Absolute positions, parents first.
  const boxes: LayoutBox[] = [];
  const pos = new Map<string, LayoutBox>();
  const titleOf = (item: Item): string => {
    const n = item.node as Record<string, unknown>;
    if (item.kind === "input") return "network input " + item.id + "\nshape " + fmtShape(n.shape as number[]);
    if (item.kind === "variable") {
      return "variable " + item.id + "\nshape " + fmtShape(n.shape as number[]) +
        (n.trainable ? "\ntrainable" : "\nnot trainable");
    }
    if (item.kind === "op") {
      const attrs = n.attrs as Record<string, string>;
      return "op " + item.id + " (" + n.op + ")\ninputs " + (n.inputs as string[]).join(", ") + "\nin " +
        fmtShapes(n.inputShapes as number[][]) + "\nout " + fmtShapes(n.outputShapes as number[][]) +
        Object.keys(attrs).sort().map((k) => "\n" + k + " = " + attrs[k]).join("");
    }
    return "scope " + item.id + "\nlayer " + n.layerType + (Number(n.calls) > 1 ? " (applied " + n.calls + "×)" : "") +
      "\nin " + fmtShapes(n.inputShapes as number[][]) + "\nout " + fmtShapes(n.outputShapes as number[][]) +
      "\nparameters " + fmtInt(n.parameters as number) + " (trainable " + fmtInt(n.trainableParameters as number) +
      ")";
  };
  const emit = (p: Placed, x: number, y: number) => {
    const expandedScope = isOpen(p.item);
    const box: LayoutBox = {
      id: p.item.id,
      kind: p.item.kind,
      expanded: expandedScope,
      expandable: p.item.kind === "scope" && p.item.children.length > 0,
      depth: p.item.kind === "input" ? -1 : p.item.chain.length - 1 - (p.item.kind === "scope" ? 0 : 1),
      x,
      y,
      width: p.w,
      height: p.h,
      lines: p.lines,
      title: titleOf(p.item),
    };
    boxes.push(box);
    pos.set(box.id, box);
    for (const k of p.kids) emit(k.p, x + k.dx, y + k.dy);
  };
  for (const k of top.kids) emit(k.p, k.dx, k.dy);

  // Visible edges, merged per (from, to).
  const merged = new Map<string, { from: string; to: string; label: string; count: number }>();
  for (const e of leafEdges) {
    const from = visibleOf(e.from), to = visibleOf(e.to);
    if (from === to) continue;
    const key = from + "\u0000" + to;
    const m = merged.get(key);
    if (m) m.count++;
    else merged.set(key, { from, to, label: e.label, count: 1 });
  }
  // Attach points spread along the bottom (outgoing, ordered by target x) and top (incoming, by source x) edges.
  const list = [...merged.values()];
  const centre = (id: string) => pos.get(id)!.x + pos.get(id)!.width / 2;
  const attach = (key: "from" | "to", other: "from" | "to") => {
    const byBox = new Map<string, typeof list>();
    for (const m of list) (byBox.get(m[key]) ?? byBox.set(m[key], []).get(m[key])!).push(m);
    const at = new Map<(typeof list)[number], number>();
    for (const [id, ms] of byBox) {
      const b = pos.get(id)!;
      ms.sort((p, q) => centre(p[other]) - centre(q[other]));
      ms.forEach((m, i) => at.set(m, b.x + (b.width * (i + 1)) / (ms.length + 1)));
    }
    return at;
  };
  const outX = attach("from", "to"), inX = attach("to", "from");
  // An edge whose straight line would cross a box (other than its ends and the open scopes holding them) detours
  // to the right of everything it crosses; so do edges going upwards.
  const within = (id: string, scope: string) => id.startsWith(scope + "/");
  let width = top.w + 2 * MARGIN;
  const labelled = new Set<string>();
  const edges: LayoutEdge[] = list.map((m, k) => {
    const a = pos.get(m.from)!, b = pos.get(m.to)!;
    const x1 = outX.get(m)!, y1 = a.y + a.height, x2 = inX.get(m)!, y2 = b.y;
    let detourX: number | null = null;
    if (y2 <= y1) detourX = Math.max(a.x + a.width, b.x + b.width) + 10;
    else {
      for (const o of boxes) {
        if (o.id === m.from || o.id === m.to || within(m.from, o.id) || within(m.to, o.id)) continue;
        const ya = Math.max(y1, o.y), yb = Math.min(y2, o.y + o.height);
        if (ya >= yb) continue;
        const xa = x1 + ((x2 - x1) * (ya - y1)) / (y2 - y1), xb = x1 + ((x2 - x1) * (yb - y1)) / (y2 - y1);
        if (Math.max(xa, xb) > o.x && Math.min(xa, xb) < o.x + o.width) {
          detourX = Math.max(detourX ?? 0, o.x + o.width + 10);
        }
      }
    }
    if (detourX !== null) {
      detourX += (k % 4) * 3;
      width = Math.max(width, detourX + MARGIN);
    }
    // One shape label per producer (its output), none for variables: their boxes already show the shape.
    const key = m.from + "\u0000" + m.label;
    const label = a.kind === "variable" || labelled.has(key) ? "" : m.label;
    labelled.add(key);
    return { from: m.from, to: m.to, label, shape: m.label, count: m.count, x1, y1, x2, y2, detourX };
  });
  return { width, height: top.h + 2 * MARGIN, boxes, edges };
}

/**
 * Renders a layout as an SVG document fragment (no XML namespace: it is meant for inline use in HTML). Scope boxes
 * that can open or close carry `data-toggle="<path>"`; every node group carries `data-id` and `data-kind`.
 *
 * @example
 * ```ts
 * const svg = renderSvg(layoutGraph(graph, [graph.root.path]), { zoom: 1 });
 * ```
 */
export function renderSvg(layout: GraphLayout, options: { readonly zoom?: number } = {}): string {
  const zoom = options.zoom ?? 1;
  const LINE_H = 14, PAD = 10;
  const esc = (s: string) =>
    s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
  const r = (n: number) => String(Math.round(n * 10) / 10);
  const SCOPE_FILL = ["#e8eef9", "#eef6ea", "#fbf1e4", "#f3eaf7", "#e6f4f4", "#f7eded"];
  const out: string[] = [];
  out.push(
    '<svg class="graph" width="' + r(layout.width * zoom) + '" height="' + r(layout.height * zoom) +
      '" viewBox="0 0 ' + r(layout.width) + " " + r(layout.height) + '" font-family="monospace" font-size="11">',
  );
  out.push(
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" ' +
      'markerUnits="userSpaceOnUse" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#667"/></marker></defs>',
  );
  const edgesSvg: string[] = [];
  for (const e of layout.edges) {
    let d: string;
    if (e.detourX === null) {
      const dy = Math.max(12, Math.abs(e.y2 - e.y1) / 2);
      d = "M" + r(e.x1) + "," + r(e.y1) + " C" + r(e.x1) + "," + r(e.y1 + dy) + " " + r(e.x2) + "," +
        r(e.y2 - dy) + " " + r(e.x2) + "," + r(e.y2);
    } else {
      const dx = r(e.detourX);
      d = "M" + r(e.x1) + "," + r(e.y1) + " C" + r(e.x1) + "," + r(e.y1 + 12) + " " + dx + "," + r(e.y1 + 2) +
        " " + dx + "," + r(e.y1 + 14) + " L" + dx + "," + r(e.y2 - 14) + " C" + dx + "," + r(e.y2 - 2) + " " +
        r(e.x2) + "," + r(e.y2 - 12) + " " + r(e.x2) + "," + r(e.y2);
    }
    edgesSvg.push(
      '<g class="edge" data-from="' + esc(e.from) + '" data-to="' + esc(e.to) + '"><path d="' + d +
        '" fill="none" stroke="#667" stroke-width="' + (e.count > 1 ? 1.6 : 1) + '" marker-end="url(#arrow)"/>' +
        "<title>" + esc(e.from + " → " + e.to + " " + e.shape + (e.count > 1 ? " (" + e.count + " tensors)" : "")) +
        "</title></g>",
    );
    if (e.label) {
      edgesSvg.push(
        '<text class="edge-label" x="' + r(e.x1 + 3) + '" y="' + r(e.y1 + 10) +
          '" font-size="9" fill="#889">' + esc(e.label) + "</text>",
      );
    }
  }
  for (const b of layout.boxes) {
    const attrs = ' data-id="' + esc(b.id) + '" data-kind="' + b.kind + '"';
    const title = "<title>" + esc(b.title) + "</title>";
    const x = r(b.x), y = r(b.y), w = r(b.width), h = r(b.height);
    if (b.kind === "scope" && b.expanded) {
      const fill = SCOPE_FILL[b.depth % SCOPE_FILL.length];
      out.push(
        '<g class="node scope open"' + attrs + '><rect x="' + x + '" y="' + y + '" width="' + w + '" height="' + h +
          '" rx="6" fill="' + fill + '" stroke="#8a9bb8"/>' + '<g class="toggle" data-toggle="' + esc(b.id) +
          '" cursor="pointer"><rect x="' + x + '" y="' + y + '" width="' + w + '" height="22" rx="6" fill="#8a9bb8" ' +
          'fill-opacity="0.25"/><text x="' + r(b.x + PAD) + '" y="' + r(b.y + 15) + '" font-weight="bold">' +
          esc(b.lines[0]) + "</text>" + title + "</g></g>",
      );
      continue;
    }
    let fill = "#ffffff", stroke = "#99a", rx = "10";
    if (b.kind === "scope") {
      fill = SCOPE_FILL[b.depth % SCOPE_FILL.length];
      stroke = "#5a6f94";
      rx = "4";
    } else if (b.kind === "variable") {
      fill = "#fff8d6";
      stroke = "#c9b458";
    } else if (b.kind === "input") {
      fill = "#dff3df";
      stroke = "#5b9a5b";
    }
    const toggle = b.kind === "scope" && b.expandable ? ' data-toggle="' + esc(b.id) + '" cursor="pointer"' : "";
    let text = "";
    b.lines.forEach((line, i) => {
      text += '<text x="' + r(b.x + PAD) + '" y="' + r(b.y + PAD / 2 + LINE_H * (i + 1) - 3) + '"' +
        (i === 0 ? ' font-weight="bold"' : ' fill="#445"') + ">" + esc(line) + "</text>";
    });
    out.push(
      '<g class="node ' + b.kind + '"' + attrs + toggle + '><rect x="' + x + '" y="' + y + '" width="' + w +
        '" height="' + h + '" rx="' + rx + '" fill="' + fill + '" stroke="' + stroke + '"' +
        (b.kind === "scope" ? ' stroke-width="1.5"' : "") + "/>" + text + title + "</g>",
    );
  }
  out.push(...edgesSvg);
  out.push("</svg>");
  return out.join("\n");
}
