/**
 * The window pipeline, the one way windows reach a network (every application builds its batches with it):
 *
 * ```
 * subject ─► load ─► preprocess ─► augment ─► sampler ─► additions      one visit (this thread or a worker)
 *   visits of an epoch, in order ─► batches ─► read-ahead queue           window_batches.ts, queue.ts
 * ```
 *
 * A pipeline is described by plain, structured-clonable data ({@link WindowPipelineSpec}), so the same spec runs in
 * this thread ({@link WindowPipeline}) or on worker threads (`WindowWorkerPool`, `num_threads`). Each visit of a
 * subject draws from its own random stream, seeded by the epoch seed and the visit's position in the epoch, so the
 * windows of an epoch depend only on (seed, epoch): not on the number of threads, nor on timing.
 *
 * @module
 */
import type { ChannelVolume, SubjectId, Window } from "./types.ts";
import { RandomStream, shuffleInPlace } from "./_random.ts";
import { type ImageGeometry, type LoadedSubject, SubjectLoader, type SubjectLoaderOptions } from "./reader/loader.ts";
import type { SubjectRecord } from "./reader/subjects.ts";
import { type PreprocessOptions, type PreprocessRecord, preprocessSubject } from "./preprocess/pipeline.ts";
import { type AugmentationOptions, augmentVolumes } from "./augment/augment.ts";
import {
  balancedSampler,
  type MapSamplerOptions,
  type RandomSamplerOptions,
  type SamplerSubject,
  uniformSampler,
  weightedSampler,
} from "./sampler/random_samplers.ts";
import { gridSampler, type GridSamplerOptions } from "./sampler/grid.ts";
import { resizeSampler, type ResizeSamplerOptions } from "./sampler/resize.ts";
import { randomVectorSampler } from "./sampler/vectors.ts";
import { classOf } from "./sampler/window_class.ts";

/** Which sampler, with its options (NiftyNet `window_sampling`, plus `grid` for inference). */
export type SamplerSpec =
  | { readonly kind: "uniform"; readonly options: Omit<RandomSamplerOptions, "seed"> }
  | { readonly kind: "weighted" | "balanced"; readonly options: Omit<MapSamplerOptions, "seed"> }
  | { readonly kind: "resize"; readonly options: ResizeSamplerOptions }
  | { readonly kind: "grid"; readonly options: GridSamplerOptions };

/**
 * Data added to every window after sampling: the class a (detached) label volume gives the window
 * (classification), the values of a one-voxel (detached) volume (a subject's `csv_data_file` row, regression
 * targets), or a random vector (a GAN's noise), drawn from the visit's stream.
 */
export type WindowAddition =
  | { readonly kind: "class"; readonly role: string }
  | { readonly kind: "values"; readonly role: string }
  | { readonly kind: "noise"; readonly role: string; readonly size: number };

/** A window pipeline as plain, structured-clonable data. */
export interface WindowPipelineSpec {
  readonly subjects: readonly SubjectRecord[];
  readonly loader: Omit<SubjectLoaderOptions, "read">;
  readonly preprocess?: PreprocessOptions;
  /** Augmentation (absent: none). */
  readonly augmentation?: AugmentationOptions;
  readonly sampler: SamplerSpec;
  /** Roles loaded and preprocessed but not cut by the sampler (e.g. a classification label image). */
  readonly detached?: readonly string[];
  /** Added to each window, in order. */
  readonly additions?: readonly WindowAddition[];
}

/** What a preprocessed subject keeps for putting outputs back: the preprocessing record and the loaded geometry. */
export interface SubjectInfo {
  readonly id: SubjectId;
  readonly record: PreprocessRecord;
  readonly geometry: Readonly<Record<string, ImageGeometry>>;
  /** Spatial shape after preprocessing (the aggregator's volume). */
  readonly shape: readonly [number, number, number];
}

/** One visit of a subject in an epoch: the epoch's seed, the visit's position in the epoch, the subject's index. */
export interface Visit {
  readonly seed: number;
  readonly position: number;
  readonly subject: number;
}

/** The windows of a visit, and the subject's info when the pipeline preprocesses. */
export interface VisitResult {
  readonly windows: Iterable<Window>;
  readonly info?: SubjectInfo;
}

/** The seeded stream of one visit. */
export function visitRandom(seed: number, position: number): RandomStream {
  return RandomStream.forName(seed, `visit:0:${position}`);
}

/**
 * The visits of one epoch of `subjectCount` subjects: in the listed order, or shuffled by the epoch's seed.
 *
 * @example
 * ```ts
 * import { epochVisits } from "./pipeline.ts";
 * epochVisits(3, 7, { shuffle: false }).map((v) => v.subject); // [0, 1, 2]
 * ```
 */
export function epochVisits(subjectCount: number, seed: number, { shuffle }: { shuffle: boolean }): Visit[] {
  const order = [...Array(subjectCount).keys()];
  if (shuffle) shuffleInPlace(new RandomStream(seed), order);
  return order.map((subject, position) => ({ seed, position, subject }));
}

/** The sampler function of a spec. */
export function samplerOf(spec: SamplerSpec): (s: SamplerSubject, rng: RandomStream) => Iterable<Window> {
  switch (spec.kind) {
    case "uniform":
      return (s, rng) => uniformSampler(s, { ...spec.options, seed: rng });
    case "weighted":
      return (s, rng) => weightedSampler(s, { ...spec.options, seed: rng });
    case "balanced":
      return (s, rng) => balancedSampler(s, { ...spec.options, seed: rng });
    case "resize":
      return (s) => resizeSampler(s, spec.options);
    case "grid":
      return (s) => gridSampler(s, spec.options);
    default:
      throw new Error(
        `unknown window_sampling "${
          (spec as { kind: string }).kind
        }": expected uniform, weighted, balanced, resize or grid`,
      );
  }
}

function* withAddition(
  windows: Iterable<Window>,
  addition: WindowAddition,
  volumes: Readonly<Record<string, ChannelVolume>>,
  rng: RandomStream,
): Generator<Window> {
  for (const w of windows) {
    if (addition.kind === "noise") {
      const [vector] = randomVectorSampler({ vectorSize: addition.size, repetition: 1, seed: rng });
      yield { ...w, data: { ...w.data, [addition.role]: { data: vector, shape: [vector.length, 1, 1], channels: 1 } } };
      continue;
    }
    const label = volumes[addition.role];
    if (!label) {
      yield w;
      continue;
    }
    if (addition.kind === "values") {
      const values = Float32Array.from(label.data);
      yield { ...w, data: { ...w.data, [addition.role]: { data: values, shape: [1, 1, 1], channels: values.length } } };
      continue;
    }
    const value = Float32Array.of(classOf(label, w));
    yield { ...w, data: { ...w.data, [addition.role]: { data: value, shape: [1, 1, 1], channels: 1 } } };
  }
}

/**
 * Runs visits of a {@link WindowPipelineSpec} in this thread. Subjects are loaded through a cache shared by all
 * visits (so small datasets stay in memory across epochs); windows are cut lazily as they are taken.
 */
export class WindowPipeline {
  readonly spec: WindowPipelineSpec;
  readonly #loader: SubjectLoader;
  readonly #sample: (s: SamplerSubject, rng: RandomStream) => Iterable<Window>;

  constructor(spec: WindowPipelineSpec) {
    this.spec = spec;
    this.#loader = new SubjectLoader(spec.subjects, spec.loader);
    this.#sample = samplerOf(spec.sampler);
  }

  /** Number of subjects. */
  get length(): number {
    return this.#loader.length;
  }

  /** Loads, preprocesses and augments the visit's subject; its windows are cut as they are iterated. */
  async visit(visit: Visit): Promise<VisitResult> {
    const { spec } = this;
    const rng = visitRandom(visit.seed, visit.position);
    const subject: LoadedSubject = await this.#loader.load(visit.subject);
    let volumes: Record<string, ChannelVolume> = { ...subject.volumes };
    let info: SubjectInfo | undefined;
    if (spec.preprocess) {
      const done = preprocessSubject(volumes, spec.preprocess);
      volumes = done.volumes;
      const first = volumes[Object.keys(spec.loader.roles)[0]];
      info = { id: subject.id, record: done.record, geometry: subject.geometry, shape: first.shape };
    }
    if (spec.augmentation) volumes = augmentVolumes(volumes, spec.augmentation, rng);
    const cut = { ...volumes };
    for (const role of spec.detached ?? []) delete cut[role];
    let windows = this.#sample({ id: subject.id, volumes: cut }, rng);
    for (const addition of spec.additions ?? []) windows = withAddition(windows, addition, volumes, rng);
    return { windows, info };
  }
}
