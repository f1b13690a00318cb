/**
 * Rewrites composite operations of a traced application (`_trace.ts`) into the single kernels they compute, so the
 * graph reader (`_graph.ts`) sees one operation each:
 *
 * - `resize3d` (`src/kernels/resize3d.ts`: reshape, 2-D bilinear resize of height and width, reshape, 2-D resize of
 *   depth, reshape) becomes one `Resize3D` kernel from the 5-D input to the 5-D output;
 * - NiftyNet's PReLU, `relu(x) + α·(x − |x|)·½` (`layers/activation.ts`), becomes tfjs's `Prelu` kernel with the
 *   per-channel slope `α` as its constant second input.
 *
 * A pattern whose intermediate tensors are read elsewhere is left as it is.
 *
 * @module
 */
import type { TracedKernel } from "./_trace.ts";

type Constant = { values: Float32Array; shape: readonly number[] };

/** How many kernels read each tensor id (the network's output counts as one reader). */
function readers(kernels: readonly TracedKernel[], outputId: number | null): Map<number, number> {
  const n = new Map<number, number>();
  if (outputId !== null) n.set(outputId, 1);
  for (const k of kernels) for (const t of k.inputs) n.set(t.id, (n.get(t.id) ?? 0) + 1);
  return n;
}

const same = (a: readonly number[], b: readonly number[]) => a.length === b.length && a.every((v, i) => v === b[i]);

/**
 * Matches resize3d's chain starting at `kernels[i]`; returns the number of kernels it spans and the synthetic
 * kernel, or null. Shapes: `[n,d,h,w,c] → [n·d,h,w,c] → resize → [n,d,oh·ow,c] → resize → [n,od,oh,ow,c]`,
 * either resize step absent when its sizes do not change.
 */
function matchResize3d(
  kernels: readonly TracedKernel[],
  i: number,
  uses: Map<number, number>,
): { span: number; kernel: TracedKernel } | null {
  const first = kernels[i];
  if (first.name !== "Reshape" || first.dataInputs.length !== 1) return null;
  const x = first.inputs[first.dataInputs[0]];
  if (x.rank !== 5) return null;
  const [n, d, h, w, c] = x.shape;
  let current = first.outputs[0];
  let j = i + 1;
  const attrs: Array<Record<string, unknown>> = [];
  /** The next kernel when it reads only `current`, which nothing else reads. */
  const next = (name: string): TracedKernel | null => {
    const k = kernels[j];
    if (!k || k.name !== name || k.dataInputs.length !== 1 || k.inputs[k.dataInputs[0]].id !== current.id) return null;
    if (uses.get(current.id) !== 1) return null;
    return k;
  };
  let od = d, oh = h, ow = w;
  if (same(current.shape, [n * d, h, w, c])) {
    const r = next("ResizeBilinear");
    if (!r) return null;
    [oh, ow] = [r.outputs[0].shape[1]!, r.outputs[0].shape[2]!];
    attrs.push(r.attrs);
    current = r.outputs[0];
    j++;
    const back = next("Reshape");
    if (!back) return null;
    current = back.outputs[0];
    j++;
  }
  if (same(current.shape, [n, d, oh * ow, c])) {
    const r = next("ResizeBilinear");
    if (r) {
      od = r.outputs[0].shape[1]!;
      if (!same(r.outputs[0].shape, [n, od, oh * ow, c])) return null;
      attrs.push(r.attrs);
      current = r.outputs[0];
      j++;
    }
    const back = next("Reshape");
    if (!back) return null;
    current = back.outputs[0];
    j++;
  }
  if (attrs.length === 0 || !same(current.shape, [n, od, oh, ow, c])) return null;
  const half = attrs.every((a) => a.halfPixelCenters === true && a.alignCorners !== true);
  const corners = attrs.every((a) => a.alignCorners === true);
  return {
    span: j - i,
    kernel: {
      name: "Resize3D",
      inputs: [x],
      attrs: { halfPixelCenters: half, alignCorners: corners },
      outputs: [current],
      constants: new Map(),
      dataInputs: [0],
    },
  };
}

/** The constant operand of a kernel of one data input, as per-channel values (`channels` long), or null. */
function perChannelConstant(k: TracedKernel, channels: number): Float32Array | null {
  const c: Constant | undefined = k.constants.get(1 - k.dataInputs[0]);
  if (!c || c.shape.slice(0, -1).some((v) => v !== 1)) return null;
  const last = c.shape.length === 0 ? 1 : c.shape[c.shape.length - 1];
  if (last === channels) return c.values;
  return last === 1 ? new Float32Array(channels).fill(c.values[0]) : null;
}

/**
 * Matches the PReLU form ending at the addition `kernels[at]`; returns the indices of its kernels and the synthetic
 * `Prelu` kernel, or null.
 */
function matchPrelu(
  kernels: readonly TracedKernel[],
  at: number,
  producer: Map<number, number>,
  uses: Map<number, number>,
): { parts: number[]; kernel: TracedKernel } | null {
  const add = kernels[at];
  if (add.name !== "Add" || add.dataInputs.length !== 2 || add.inputs.length !== 2) return null;
  const from = (id: number) => (uses.get(id) === 1 ? producer.get(id) : undefined);
  for (const [ri, mi] of [[0, 1], [1, 0]]) {
    const r = from(add.inputs[ri].id), parts: number[] = [];
    if (r === undefined || kernels[r].name !== "Relu") continue;
    const x = kernels[r].inputs[0];
    const channels = x.shape[x.rank - 1];
    parts.push(r);
    // Multiply by per-channel constants back to Sub(x, Abs(x)); x − |x| = 2·min(x, 0)
    let scale = new Float32Array(channels).fill(2);
    let k = from(add.inputs[mi].id);
    while (k !== undefined && kernels[k].name === "Multiply" && kernels[k].dataInputs.length === 1) {
      const c = perChannelConstant(kernels[k], channels);
      if (!c) break;
      scale = scale.map((v, i) => v * c[i]);
      parts.push(k);
      k = from(kernels[k].inputs[kernels[k].dataInputs[0]].id);
    }
    if (k === undefined || kernels[k].name !== "Sub" || kernels[k].dataInputs.length !== 2) continue;
    const sub = kernels[k];
    const abs = from(sub.inputs[1].id);
    if (sub.inputs[0].id !== x.id || abs === undefined || kernels[abs].name !== "Abs") continue;
    if (kernels[abs].inputs[0].id !== x.id || parts.length < 2) continue;
    parts.push(k, abs);
    return {
      parts,
      kernel: {
        name: "Prelu",
        inputs: [x],
        attrs: {},
        outputs: add.outputs,
        constants: new Map([[1, { values: scale, shape: [channels] }]]),
        dataInputs: [0],
      },
    };
  }
  return null;
}

/** `kernels` with resize3d chains and PReLU forms replaced by single kernels (see the module notes). */
export function rewritePatterns(kernels: readonly TracedKernel[], outputId: number | null): TracedKernel[] {
  const uses = readers(kernels, outputId);
  const resized: TracedKernel[] = [];
  for (let i = 0; i < kernels.length; i++) {
    const m = matchResize3d(kernels, i, uses);
    if (m) {
      resized.push(m.kernel);
      i += m.span - 1;
    } else resized.push(kernels[i]);
  }
  const producer = new Map<number, number>();
  resized.forEach((k, i) => k.outputs.forEach((t) => producer.set(t.id, i)));
  const replaced = new Map<number, TracedKernel>();
  const dropped = new Set<number>();
  resized.forEach((_, i) => {
    const m = matchPrelu(resized, i, producer, uses);
    if (!m) return;
    replaced.set(i, m.kernel);
    m.parts.forEach((p) => dropped.add(p));
  });
  return resized.flatMap((k, i) => (dropped.has(i) ? [] : [replaced.get(i) ?? k]));
}
