/**
 * A whole window pipeline described by plain data (subjects, loader, preprocessing, augmentation, sampler), so it
 * can run in this thread or be shipped to workers ({@link parallelWindows}) unchanged.
 *
 * @module
 */
import type { Window } from "./types.ts";
import type { RandomStream } from "./_random.ts";
import { SubjectLoader, type SubjectLoaderOptions } from "./reader/loader.ts";
import type { SubjectRecord } from "./reader/subjects.ts";
import { type PreprocessOptions, preprocessSubject } from "./preprocess/pipeline.ts";
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
import { windowStream } from "./sampler/stream.ts";

/** Which sampler, with its options (NiftyNet `window_sampling`, plus `grid` for inference). */
export type SamplerSpec =
  | { readonly kind: "uniform"; readonly options: Omit<RandomSamplerOptions, "seed"> }
  | { readonly kind: "weighted" | "balanced"; readonly options: Omit<MapSamplerOptions, "seed"> }
  | { readonly kind: "resize"; readonly options: ResizeSamplerOptions }
  | { readonly kind: "grid"; readonly options: GridSamplerOptions };

/** A window pipeline as plain, structured-clonable data. */
export interface WindowPipelineSpec {
  readonly subjects: readonly SubjectRecord[];
  readonly loader: Omit<SubjectLoaderOptions, "read">;
  readonly preprocess?: PreprocessOptions;
  /** Training augmentation (absent: none). */
  readonly augmentation?: AugmentationOptions;
  readonly sampler: SamplerSpec;
  readonly epochs?: number;
  readonly shuffle?: boolean;
  readonly seed?: number;
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

/** Runs a pipeline spec in this thread (or its share `part` of `parts`). */
export function pipelineWindows(
  spec: WindowPipelineSpec,
  options: { part?: number; parts?: number } = {},
): AsyncGenerator<Window> {
  const loader = new SubjectLoader(spec.subjects, spec.loader);
  return windowStream<SamplerSubject>(loader, {
    sampler: samplerOf(spec.sampler),
    transform: (subject, rng) => {
      let volumes = subject.volumes;
      if (spec.preprocess) volumes = preprocessSubject(volumes, spec.preprocess).volumes;
      if (spec.augmentation) volumes = augmentVolumes(volumes, spec.augmentation, rng);
      return { id: subject.id, volumes };
    },
    epochs: spec.epochs,
    shuffle: spec.shuffle,
    seed: spec.seed,
    ...options,
  });
}
