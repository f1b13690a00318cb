/**
 * The feature normalisation choice of NiftyNet's composite blocks (`feature_normalization`): batch, instance or
 * group norm, each with its scope name (`bn_`, `in_`, `gn_`) and block-name suffix (`_bn`, `_in`, `_gn`).
 *
 * @module
 */
import type { Layer, Regularizer } from "../src/dsl/mod.ts";
import { BNLayer } from "./bn.ts";
import { GNLayer } from "./gn.ts";
import { InstanceNormLayer } from "./instance_norm.ts";

/** NiftyNet's `feature_normalization` values; `null` means none. */
export type FeatureNormalization = "batch" | "instance" | "group" | null;

/** Resolves NiftyNet's `feature_normalization` + `group_size` (and the older `with_bn`) and checks them. */
export function resolveNormalization(
  where: string,
  { featureNormalization, withBn, groupSize = -1 }: {
    featureNormalization?: FeatureNormalization;
    withBn?: boolean;
    groupSize?: number;
  },
): FeatureNormalization {
  const norm = featureNormalization !== undefined ? featureNormalization : withBn === false ? null : "batch";
  if (norm !== null && !["batch", "instance", "group"].includes(norm)) {
    throw new Error(`${where}: unknown feature normalization "${norm}": expected batch, instance, group or null`);
  }
  if (norm !== "group" && groupSize > 0) {
    throw new Error(`${where}: group size ${groupSize} > 0 needs feature normalization "group", got ${norm}`);
  }
  if (norm === "group" && groupSize <= 0) {
    throw new Error(`${where}: feature normalization "group" needs a group size > 0, got ${groupSize}`);
  }
  return norm;
}

/** The block-name suffix NiftyNet appends for a normalisation. */
export function normalizationSuffix(norm: FeatureNormalization): string {
  return norm === "batch" ? "_bn" : norm === "instance" ? "_in" : norm === "group" ? "_gn" : "";
}

/** The normalisation layer of a composite block, named as NiftyNet names it inside the block. */
export function normalizationLayer(
  norm: FeatureNormalization,
  { regularizer, movingDecay, eps, groupSize, affine }: {
    regularizer?: Regularizer;
    movingDecay?: number;
    eps?: number;
    groupSize?: number;
    /** Instance norm only: false drops its learnt scale and shift (no variables). */
    affine?: boolean;
  },
): Layer | undefined {
  switch (norm) {
    case "batch":
      return new BNLayer({ name: "bn_", regularizer, movingDecay, eps });
    case "instance":
      return new InstanceNormLayer({ name: "in_", eps: eps ?? 1e-5, affine });
    case "group":
      return new GNLayer({ name: "gn_", regularizer, groupSize, eps });
    default:
      return undefined;
  }
}
