/**
 * Segmentation post-processing and label tables from `[INFERENCE]`: `keep_largest_component` and `fill_holes`
 * (the 3D label-map operations of `src/evaluation/morphology.ts`, the ones `zoo run` uses), applied to each label
 * map once its label values are restored, in that order; and `label_table`, the names and colours written beside
 * the label maps.
 *
 * @module
 */
import type { ChannelVolume } from "../data/mod.ts";
import type { NiftyConfig } from "../engine/config/mod.ts";
import type { HonouredKeys } from "../engine/honoured_keys.ts";
import { fillHoles, keepLargestComponent } from "../evaluation/mod.ts";
import { type LabelEntry, readLabelTable } from "../io/mod.ts";

/** Keys {@link labelPostprocess} and {@link configuredLabelTable} act on. */
export const LABEL_OUTPUT_HONOURED_KEYS: HonouredKeys = {
  INFERENCE: ["keep_largest_component", "fill_holes", "label_table"],
};

function labelValues(items: readonly string[], key: string, config: NiftyConfig): number[] | "all" {
  if (items.includes("all")) {
    if (items.length > 1) {
      throw new Error(`"${config.source}": [INFERENCE] ${key} = ${items.join(",")}: all cannot be combined`);
    }
    return "all";
  }
  return items.map(Number);
}

/** Non-zero values present in a label map, ascending. */
function presentLabels(data: ArrayLike<number>): number[] {
  const found = new Set<number>();
  for (let i = 0; i < data.length; i++) if (data[i] !== 0) found.add(data[i]);
  return [...found].sort((a, b) => a - b);
}

/**
 * The post-processing of `keep_largest_component` and `fill_holes` as a function of a one-channel label volume
 * (`[x, y, z]`, x fastest), or undefined when neither is set. Label values are the written ones (after
 * `label_normalisation` is undone).
 */
export function labelPostprocess(
  config: NiftyConfig,
  { labelOutput }: { labelOutput: boolean },
): ((volume: ChannelVolume) => ChannelVolume) | undefined {
  const { keep_largest_component: keep, fill_holes: fill } = config.inference;
  if (!keep.length && !fill.length) return undefined;
  if (!labelOutput) {
    const key = keep.length ? "keep_largest_component" : "fill_holes";
    throw new Error(`"${config.source}": [INFERENCE] ${key} needs label maps (it does not apply with output_prob)`);
  }
  if (keep.includes("foreground") && keep.length > 1) {
    throw new Error(
      `"${config.source}": [INFERENCE] keep_largest_component = ${keep.join(",")}: foreground cannot be combined`,
    );
  }
  const largest = keep.length
    ? keep[0] === "foreground" ? "foreground" : labelValues(keep, "keep_largest_component", config)
    : undefined;
  const holes = fill.length ? labelValues(fill, "fill_holes", config) : undefined;
  return (volume) => {
    const [nx, ny, nz] = volume.shape;
    const shape: [number, number, number] = [nz, ny, nx];
    const data = Float32Array.from(volume.data);
    if (largest === "foreground") keepLargestComponent(data, shape, "foreground");
    else if (largest) keepLargestComponent(data, shape, "per-label", largest === "all" ? {} : { labels: largest });
    if (holes) fillHoles(data, shape, holes === "all" ? presentLabels(data) : holes);
    return { ...volume, data };
  };
}

/** The label table of `[INFERENCE] label_table` (undefined when unset); refused for probability outputs. */
export async function configuredLabelTable(
  config: NiftyConfig,
  { labelOutput }: { labelOutput: boolean },
): Promise<LabelEntry[] | undefined> {
  const path = config.inference.label_table;
  if (!path) return undefined;
  if (!labelOutput) {
    throw new Error(
      `"${config.source}": [INFERENCE] label_table needs label maps (it does not apply with output_prob)`,
    );
  }
  return await readLabelTable(path);
}
