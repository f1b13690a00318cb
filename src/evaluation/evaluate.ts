/**
 * Evaluation of one subject (a segmentation or image against its reference) into rows of named metric values,
 * per evaluation unit, and their summary over subjects.
 *
 * Units (NiftyNet's `evaluation_units`):
 * - `foreground`: one row, label `foreground`, masks seg ≠ 0 and ref ≠ 0.
 * - `label`: one row per label value (default: every non-zero value present in seg or ref, ascending; or
 *   `labels`), masks seg = v and ref = v; `label` is the value.
 * - `cc`: connected components of the foreground masks (face connectivity unless `connectivity: "full"`).
 *   NiftyNet's matching rule: each reference component is paired with the union of all segmentation components
 *   that overlap it (row `r<k>_s<i>&<j>`, `r<k>_s` when none does). In addition, each segmentation component that
 *   overlaps no reference component gets a row `r_s<i>` (false-positive components; NiftyNet drops them).
 *   Components are numbered in raster order of their first voxel, as scipy.ndimage.label.
 *
 * @module
 */
import { checkTolerance, type SurfaceDistances, surfaceDistances } from "./distance.ts";
import { connectedComponents, type Connectivity } from "./morphology.ts";
import { type Confusion, confusion } from "./overlap.ts";
import { getMetric, type RegressionMetric, type SegmentationContext, type SegmentationMetric } from "./registry.ts";
import { checkVolume, type Mask, type Volume } from "./types.ts";

/** NiftyNet's evaluation units. */
export type EvaluationUnit = "foreground" | "label" | "cc";

/** One CSV row: a subject, a label (or unit id) and the metric values by name. */
export interface EvaluationRow {
  readonly subjectId: string;
  /** Label value, `foreground`, a connected-component id (`r1_s2&3`), or "" for image (regression) metrics. */
  readonly label: string;
  readonly values: Readonly<Record<string, number>>;
}

/** Options for {@link evaluatePair}. */
export interface EvaluateOptions {
  /** Metric names, as a list or NiftyNet's comma-separated string. */
  evaluations: readonly string[] | string;
  /** Units as a list or comma-separated string; default `foreground`. Ignored by regression metrics. */
  units?: readonly EvaluationUnit[] | string;
  /** Written in the `subject_id` column; default "". */
  subjectId?: string;
  /** Label values for the `label` unit; default every non-zero value present in seg or ref. */
  labels?: readonly number[];
  /** Connectivity of the `cc` unit's components; default 1 (face neighbours). */
  connectivity?: Connectivity;
  /** Tolerance of `surface_dice` in mm; default 1. */
  surfaceTolerance?: number;
}

function splitList(value: readonly string[] | string): string[] {
  return (typeof value === "string" ? value.split(",") : [...value]).map((s) => s.trim()).filter((s) => s);
}

function binarize(data: ArrayLike<number>, test: (v: number) => boolean): Mask {
  const out = new Uint8Array(data.length);
  for (let i = 0; i < data.length; i++) if (test(data[i])) out[i] = 1;
  return out;
}

function context(
  seg: Mask,
  ref: Mask,
  { shape, spacing, surfaceTolerance }: {
    shape: readonly number[];
    spacing: readonly number[];
    surfaceTolerance: number;
  },
): SegmentationContext {
  let counts: Confusion | undefined, distances: SurfaceDistances | undefined;
  return {
    seg,
    ref,
    shape,
    spacing,
    surfaceTolerance,
    confusion: () => counts ??= confusion(seg, ref),
    distances: () => distances ??= surfaceDistances(seg, ref, shape, spacing),
  };
}

/** The (label, seg mask, ref mask) triples of the connected-component unit. */
function componentPairs(
  seg: ArrayLike<number>,
  ref: ArrayLike<number>,
  shape: readonly number[],
  connectivity: Connectivity,
): [string, Mask, Mask][] {
  const s = connectedComponents(binarize(seg, (v) => v !== 0), shape, { connectivity });
  const r = connectedComponents(binarize(ref, (v) => v !== 0), shape, { connectivity });
  const overlaps = Array.from({ length: r.count + 1 }, () => new Set<number>());
  const matched = new Set<number>();
  for (let i = 0; i < s.labels.length; i++) {
    if (s.labels[i] && r.labels[i]) {
      overlaps[r.labels[i]].add(s.labels[i]);
      matched.add(s.labels[i]);
    }
  }
  const pairs: [string, Mask, Mask][] = [];
  for (let k = 1; k <= r.count; k++) {
    const segIds = [...overlaps[k]].sort((a, b) => a - b);
    const members = new Uint8Array(s.count + 1);
    for (const id of segIds) members[id] = 1;
    pairs.push([
      `r${k}_s${segIds.join("&")}`,
      binarize(s.labels, (v) => members[v] === 1),
      binarize(r.labels, (v) => v === k),
    ]);
  }
  const empty = new Uint8Array(ref.length);
  for (let j = 1; j <= s.count; j++) {
    if (!matched.has(j)) pairs.push([`r_s${j}`, binarize(s.labels, (v) => v === j), empty]);
  }
  return pairs;
}

/**
 * Evaluates one subject: a segmentation (or regressed image) against its reference, both row-major volumes of
 * the same shape. Returns one row per unit (label, foreground or component), or one row with label "" for
 * regression metrics. Distances use the reference's spacing (mm).
 *
 * @example
 * ```ts
 * const rows = evaluatePair({ data: seg, shape: [64, 64, 40], spacing: [0.8, 0.8, 2] }, { data: ref, shape: [64, 64, 40] },
 *   { evaluations: "dice,hausdorff95_distance", units: ["label"], subjectId: "sub-01" });
 * ```
 */
export function evaluatePair(seg: Volume, ref: Volume, options: EvaluateOptions): EvaluationRow[] {
  const names = splitList(options.evaluations);
  if (!names.length) throw new Error("evaluations: no metric names given");
  const defs = names.map(getMetric);
  const kinds = new Set(defs.map((d) => d.kind));
  if (kinds.has("classification")) {
    throw new Error(
      `evaluations: ${names.filter((_, i) => defs[i].kind === "classification")} compare classes across subjects; ` +
        `use classificationAccuracy / rocAuc on all subjects at once`,
    );
  }
  if (kinds.size > 1) throw new Error(`evaluations: cannot mix segmentation and regression metrics (${names})`);
  const refSpacing = checkVolume(ref, "reference");
  const segSpacing = checkVolume(seg, "segmentation");
  if (seg.shape.join() !== ref.shape.join()) {
    throw new Error(`segmentation shape [${seg.shape}] does not match reference shape [${ref.shape}]`);
  }
  if (seg.spacing && segSpacing.some((s, d) => Math.abs(s - refSpacing[d]) > 1e-6 * refSpacing[d])) {
    throw new Error(`segmentation spacing [${segSpacing}] does not match reference spacing [${refSpacing}]`);
  }
  const subjectId = options.subjectId ?? "";
  const shape = ref.shape;
  if (kinds.has("regression")) {
    const values: Record<string, number> = {};
    for (const def of defs as RegressionMetric[]) values[def.name] = def.compute(seg.data, ref.data, shape);
    return [{ subjectId, label: "", values }];
  }
  const surfaceTolerance = checkTolerance(options.surfaceTolerance ?? 1);
  const units = splitList(options.units ?? "foreground");
  const pairs: [string, Mask, Mask][] = [];
  for (const unit of units) {
    if (unit === "foreground") {
      pairs.push(["foreground", binarize(seg.data, (v) => v !== 0), binarize(ref.data, (v) => v !== 0)]);
    } else if (unit === "label") {
      const labels = options.labels ?? presentLabels(seg.data, ref.data);
      for (const v of labels) {
        pairs.push([
          String(v),
          binarize(seg.data, (x) => x === v),
          binarize(ref.data, (x) => x === v),
        ]);
      }
    } else if (unit === "cc") {
      pairs.push(...componentPairs(seg.data, ref.data, shape, options.connectivity ?? 1));
    } else {
      throw new Error(`evaluation_units: unknown unit "${unit}"; expected foreground, label or cc`);
    }
  }
  return pairs.map(([label, s, r]) => {
    const ctx = context(s, r, { shape, spacing: refSpacing, surfaceTolerance });
    const values: Record<string, number> = {};
    for (const def of defs as SegmentationMetric[]) values[def.name] = def.compute(ctx);
    return { subjectId, label, values };
  });
}

/** Sorted non-zero values present in either label map. */
function presentLabels(a: ArrayLike<number>, b: ArrayLike<number>): number[] {
  const found = new Set<number>();
  for (const data of [a, b]) for (let i = 0; i < data.length; i++) if (data[i] !== 0) found.add(data[i]);
  return [...found].sort((x, y) => x - y);
}

/** One subject's inputs for {@link evaluationRows}. */
export interface SubjectPair {
  readonly subjectId: string;
  readonly seg: Volume;
  readonly ref: Volume;
}

/** Evaluates many subjects; rows in subject order, then unit order. */
export function evaluationRows(
  subjects: Iterable<SubjectPair>,
  options: Omit<EvaluateOptions, "subjectId">,
): EvaluationRow[] {
  const rows: EvaluationRow[] = [];
  for (const { subjectId, seg, ref } of subjects) rows.push(...evaluatePair(seg, ref, { ...options, subjectId }));
  return rows;
}

/**
 * Summary rows per label (in first-appearance order): `subjectId` "mean" and "stdev" (population standard
 * deviation, as NiftyNet's np.std aggregation), skipping NaN values; a label with only NaN gives NaN.
 */
export function summarizeRows(rows: readonly EvaluationRow[]): EvaluationRow[] {
  const groups = new Map<string, EvaluationRow[]>();
  for (const row of rows) {
    if (!groups.has(row.label)) groups.set(row.label, []);
    groups.get(row.label)!.push(row);
  }
  const out: EvaluationRow[] = [];
  for (const [label, group] of groups) {
    const mean: Record<string, number> = {}, stdev: Record<string, number> = {};
    for (const name of Object.keys(group[0].values)) {
      const xs = group.map((r) => r.values[name]).filter((x) => !Number.isNaN(x));
      const m = xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN;
      mean[name] = m;
      stdev[name] = xs.length ? Math.sqrt(xs.reduce((a, b) => a + (b - m) ** 2, 0) / xs.length) : NaN;
    }
    out.push({ subjectId: "mean", label, values: mean }, { subjectId: "stdev", label, values: stdev });
  }
  return out;
}
