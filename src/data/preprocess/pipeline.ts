/**
 * NiftyNet 0.6's preprocessing chain for one subject, driven by its [NETWORK] keys, in the order its applications
 * build it (`segmentation_application.py`, `initialise_dataset_loader`: `volume_padding_layer +
 * normalisation_layers`): volume padding of every role first, then on the padded image histogram standardisation
 * (`normalisation`) and whitening (`whitening`), both optionally over a foreground mask computed on the padded
 * image (`normalise_foreground_only`), then discrete label normalisation. Returns what is needed to undo the
 * geometric and label steps on outputs.
 *
 * @module
 */
import type { ChannelVolume } from "../types.ts";
import { channelOf, spatialSize } from "../types.ts";
import { type ForegroundType, type MultimodForegroundType, multimodMask } from "./masks.ts";
import { applyPadding, type Padding, paddingFor, type PaddingOptions, unpadVolume } from "./padding.ts";
import { type HistogramOptions, standardiseHistogram } from "./histogram_standardisation.ts";
import { whiten, type WhiteningStats } from "./whitening.ts";
import { denormaliseLabels, type LabelMapping, normaliseLabels } from "./label_normalisation.ts";

/** Preprocessing settings; field names mirror NiftyNet's INI keys. */
export interface PreprocessOptions extends PaddingOptions, HistogramOptions {
  /** INI `normalisation`: Nyúl histogram standardisation (needs `landmarks`; default false). */
  normalisation?: boolean;
  /** Reference landmarks per channel of the image role (from `histogram_ref_file`). */
  landmarks?: readonly ArrayLike<number>[];
  /** INI `whitening` (default false). */
  whitening?: boolean;
  /** INI `normalise_foreground_only` (default false). */
  normaliseForegroundOnly?: boolean;
  /** INI `foreground_type` (default `otsu_plus`). */
  foregroundType?: ForegroundType;
  /** INI `multimod_foreground_type` (default `and`). */
  multimodForegroundType?: MultimodForegroundType;
  /** Label mapping for the label role (discrete label normalisation), if any. */
  labelMapping?: LabelMapping;
  /** Role names (default `image` and `label`). */
  imageRole?: string;
  labelRole?: string;
}

/** What {@link preprocessSubject} did, for {@link undoPreprocessing}. */
export interface PreprocessRecord {
  readonly padding: Padding;
  readonly whitening?: WhiteningStats;
  readonly labelMapping?: LabelMapping;
}

/** Applies the chain to a subject's volumes; every role is padded the same way (NiftyNet pads labels like images). */
export function preprocessSubject(
  volumes: Readonly<Record<string, ChannelVolume>>,
  options: PreprocessOptions,
): { volumes: Record<string, ChannelVolume>; record: PreprocessRecord } {
  const imageRole = options.imageRole ?? "image", labelRole = options.labelRole ?? "label";
  const out: Record<string, ChannelVolume> = { ...volumes };
  const first = out[imageRole] ?? Object.values(out)[0];
  const padding = first ? paddingFor(first.shape, options) : { before: [0, 0, 0] as const, after: [0, 0, 0] as const };
  for (const role of Object.keys(out)) {
    out[role] = applyPadding(out[role], padding, options.volumePaddingMode ?? "minimum", options.constantValue ?? 0);
  }
  let whitening: WhiteningStats | undefined;
  const image = out[imageRole];
  if (image && (options.normalisation || options.whitening)) {
    const masks = options.normaliseForegroundOnly ? multimodMask(image, options) : undefined;
    let v = image;
    if (options.normalisation) {
      if (!options.landmarks || options.landmarks.length < v.channels) {
        throw new Error(
          `normalisation is on but histogram landmarks cover ${
            options.landmarks?.length ?? 0
          } of ${v.channels} channels`,
        );
      }
      const n = spatialSize(v.shape);
      const data = new Float32Array(v.data.length);
      for (let c = 0; c < v.channels; c++) {
        data.set(standardiseHistogram(channelOf(v, c), masks?.[c], options.landmarks[c], options), c * n);
      }
      v = { ...v, data };
    }
    if (options.whitening) ({ volume: v, stats: whitening } = whiten(v, { masks }));
    out[imageRole] = v;
  }
  if (options.labelMapping && out[labelRole]) {
    out[labelRole] = { ...out[labelRole], data: normaliseLabels(out[labelRole].data, options.labelMapping) };
  }
  return { volumes: out, record: { padding, whitening, labelMapping: options.labelMapping } };
}

/** Undoes the padding (and, with `labels: true`, the label normalisation) on a network output. */
export function undoPreprocessing(
  output: ChannelVolume,
  record: PreprocessRecord,
  options: { labels?: boolean } = {},
): ChannelVolume {
  const v = unpadVolume(output, record.padding);
  return options.labels && record.labelMapping ? { ...v, data: denormaliseLabels(v.data, record.labelMapping) } : v;
}
