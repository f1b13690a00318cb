/**
 * The zoo manifest: what one pretrained entry is, typed and validated (zod), so that `zoo list`, `zoo info`,
 * `zoo run` and scripts rely on one checked description rather than on flags scattered in code.
 *
 * An entry names its network (a registered DSL network + options), its published files (URL, bytes, sha256),
 * the input contract (conform grid, normalisation, crop/threshold, pre-model) and the output contract (labels and
 * colours, label map / binary mask / extracted brain, post-processing), plus its citation, license and an example.
 *
 * @module
 */
import { z } from "../src/deps.ts";
import type { ZooFile } from "./files.ts";
import type { ZooLabel } from "./_brainchop_labels.ts";

const sha256 = z.string().regex(/^[0-9a-f]{64}$/, "expected 64 lower-case hex digits");
const zooFile = z.object({
  path: z.string().regex(/^models\/[^/]+\/[^/]+$/, "expected models/<dir>/<file>"),
  url: z.string().url(),
  bytes: z.number().int().positive(),
  sha256,
}).strict();
const rgb = z.tuple([
  z.number().int().min(0).max(255),
  z.number().int().min(0).max(255),
  z.number().int().min(0).max(255),
]);
const label = z.object({ value: z.number().int().min(0), name: z.string().min(1), rgb }).strict();
const triple = z.tuple([z.number().positive(), z.number().positive(), z.number().positive()]);

/** What the entry produces. */
export const ZOO_TASKS = ["tissue", "parcellation", "brain-extraction", "brain-mask"] as const;

const schema = z.object({
  id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, "expected lower-case words joined by '-'"),
  title: z.string().min(1),
  task: z.enum(ZOO_TASKS),
  description: z.string().min(1),
  citation: z.string().min(1),
  license: z.string().min(1),
  /** The upstream configuration this entry reproduces (brainchop menu entry). */
  upstream: z.string().min(1),
  network: z.object({
    name: z.literal("meshnet"),
    options: z.object({
      numClasses: z.number().int().min(2),
      channels: z.number().int().positive(),
      dilations: z.array(z.number().int().positive()).min(1),
      actiFunc: z.enum(["relu", "elu", "gelu"]),
      withBias: z.boolean(),
      normalization: z.enum(["instance"]).nullable(),
    }).strict(),
  }).strict(),
  weights: z.object({
    format: z.literal("tfjs-layers"),
    /** The topology + weights manifest; shards are the other files of the same folder. */
    modelJson: zooFile,
    files: z.array(zooFile).min(2),
  }).strict(),
  input: z.object({
    conform: z.object({
      shape: z.tuple([z.literal(256), z.literal(256), z.literal(256)]),
      voxelSize: triple,
      axcodes: z.literal("LIA"),
    })
      .strict(),
    /** min-max to [0, 1], or (x − q_low)/(q_high − q_low) with brainchop's sorted-index quantiles. */
    normalization: z.discriminatedUnion("kind", [
      z.object({ kind: z.literal("minmax") }).strict(),
      z.object({ kind: z.literal("quantile"), low: z.number().min(0).max(1), high: z.number().min(0).max(1) }).strict(),
    ]),
    crop: z.object({
      /** Foreground for the crop box: normalised value > threshold · max (0: > 0). Ignored with a pre-model. */
      threshold: z.number().min(0).max(1),
      /** Voxels added on each side of the box (clipped to the volume). */
      padding: z.number().int().min(0),
    }).strict(),
    /** Entry run first on the whole volume; its foreground (label > 0) gives the crop box. */
    preModel: z.string().nullable(),
  }).strict(),
  output: z.object({
    /** labels: the label map; mask: 0/1 brain mask; extracted: the input times the mask. */
    kind: z.enum(["labels", "mask", "extracted"]),
    labels: z.array(label).min(2),
    /** Keep only the largest 26-connected component: of all foreground voxels together (brainchop), or per label. */
    largestComponent: z.enum(["foreground", "per-label"]).nullable(),
  }).strict(),
  example: z.object({ command: z.string().min(1), input: z.string().min(1) }).strict(),
}).strict();

/** A validated zoo entry. */
export interface ZooManifest {
  readonly id: string;
  readonly title: string;
  readonly task: (typeof ZOO_TASKS)[number];
  readonly description: string;
  readonly citation: string;
  readonly license: string;
  readonly upstream: string;
  readonly network: {
    readonly name: "meshnet";
    readonly options: {
      readonly numClasses: number;
      readonly channels: number;
      readonly dilations: readonly number[];
      readonly actiFunc: "relu" | "elu" | "gelu";
      readonly withBias: boolean;
      readonly normalization: "instance" | null;
    };
  };
  readonly weights: { readonly format: "tfjs-layers"; readonly modelJson: ZooFile; readonly files: readonly ZooFile[] };
  readonly input: {
    readonly conform: {
      readonly shape: readonly [256, 256, 256];
      readonly voxelSize: readonly [number, number, number];
      readonly axcodes: "LIA";
    };
    readonly normalization: { readonly kind: "minmax" } | {
      readonly kind: "quantile";
      readonly low: number;
      readonly high: number;
    };
    readonly crop: { readonly threshold: number; readonly padding: number };
    readonly preModel: string | null;
  };
  readonly output: {
    readonly kind: "labels" | "mask" | "extracted";
    readonly labels: readonly ZooLabel[];
    readonly largestComponent: "foreground" | "per-label" | null;
  };
  readonly example: { readonly command: string; readonly input: string };
}

/**
 * Checks a manifest and its internal consistency (classes vs labels, model.json among the files); throws one line
 * naming the entry and the problem.
 */
export function validateManifest(value: unknown): ZooManifest {
  const parsed = schema.safeParse(value);
  const id = typeof value === "object" && value && "id" in value ? String((value as { id: unknown }).id) : "?";
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`zoo entry "${id}": ${issue.path.join(".") || "(root)"}: ${issue.message}`);
  }
  const m = parsed.data as ZooManifest;
  const { numClasses } = m.network.options;
  const expected = m.output.kind === "labels" ? numClasses : 2;
  if (m.output.labels.length !== expected) {
    throw new Error(`zoo entry "${id}": output.labels has ${m.output.labels.length} names but ${expected} are needed`);
  }
  if (m.output.labels.some((l, i) => l.value !== i)) {
    throw new Error(`zoo entry "${id}": output.labels values must be 0, 1, 2… in order`);
  }
  if (!m.weights.files.some((f) => f.path === m.weights.modelJson.path)) {
    throw new Error(`zoo entry "${id}": weights.files must include ${m.weights.modelJson.path}`);
  }
  if (m.input.preModel === m.id) throw new Error(`zoo entry "${id}": input.preModel cannot be the entry itself`);
  return m;
}
