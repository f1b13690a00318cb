/**
 * Discrete label normalisation (NiftyNet's discrete label normaliser): the label values seen in training, sorted,
 * map to 0..K−1, and predictions map back to the original values.
 *
 * @module
 */

/** Original label values (sorted) and their indices. */
export interface LabelMapping {
  readonly from: readonly number[];
  readonly to: readonly number[];
}

/** Learns the mapping from every distinct value of the given label volumes. */
export function learnLabelMapping(labels: Iterable<ArrayLike<number>>): LabelMapping {
  const seen = new Set<number>();
  for (const l of labels) for (let i = 0; i < l.length; i++) seen.add(l[i]);
  const from = [...seen].sort((a, b) => a - b);
  return { from, to: from.map((_, i) => i) };
}

function lookup(keys: readonly number[], values: readonly number[], what: string): Map<number, number> {
  if (keys.length !== values.length) throw new Error(`${what}: ${keys.length} keys but ${values.length} values`);
  return new Map(keys.map((k, i) => [k, values[i]]));
}

/** Maps labels to 0..K−1; a value the mapping does not know is an error naming it. */
export function normaliseLabels(data: ArrayLike<number>, mapping: LabelMapping, what = "label"): Float32Array {
  const m = lookup(mapping.from, mapping.to, "label mapping");
  return Float32Array.from(data, (v) => {
    const t = m.get(v);
    if (t === undefined) {
      throw new Error(`${what}: value ${v} is not among the training labels ${JSON.stringify(mapping.from)}`);
    }
    return t;
  });
}

/** Maps 0..K−1 back to the original label values. */
export function denormaliseLabels(data: ArrayLike<number>, mapping: LabelMapping, what = "prediction"): Float32Array {
  const m = lookup(mapping.to, mapping.from, "label mapping");
  return Float32Array.from(data, (v) => {
    const t = m.get(Math.round(v));
    if (t === undefined) throw new Error(`${what}: class ${v} is outside 0..${mapping.to.length - 1}`);
    return t;
  });
}

/** The mapping as `histogram_ref_file` lines (`<name>_from …`, `<name>_to …`). */
export function formatLabelMapping(name: string, mapping: LabelMapping): string {
  return `${name}_from ${mapping.from.join(" ")}\n${name}_to ${mapping.to.join(" ")}\n`;
}

/** Reads a mapping written by {@link formatLabelMapping} from parsed reference-file entries. */
export function labelMappingFrom(name: string, ref: ReadonlyMap<string, ArrayLike<number>>): LabelMapping | undefined {
  const from = ref.get(`${name}_from`), to = ref.get(`${name}_to`);
  return from && to ? { from: Array.from(from), to: Array.from(to) } : undefined;
}
