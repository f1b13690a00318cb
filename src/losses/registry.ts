/**
 * The one loss registry: NiftyNet `loss_type` names per application, plus plugins registered at run time.
 *
 * @module
 */
import type { tf } from "../deps.ts";
import type { LossParams } from "./_util.ts";
import { closestMatch } from "../util/suggest.ts";
import { importPlugin } from "../util/plugin.ts";
import {
  type AutoencoderLoss,
  classificationCrossEntropy,
  ganCrossEntropy,
  type GanLoss,
  variationalLowerBound,
} from "./classification.ts";
import { REGRESSION_LOSSES, regressionLoss } from "./regression.ts";
import { type DataLoss, SEGMENTATION_LOSSES, segmentationLoss } from "./segmentation.ts";

/** What each application's loss function looks like. */
export interface LossFunctions {
  segmentation: DataLoss;
  regression: DataLoss;
  classification: DataLoss;
  gan: GanLoss;
  autoencoder: AutoencoderLoss;
}

/** The application kinds that have losses (NiftyNet has one factory per kind; names repeat across kinds). */
export type LossApplication = keyof LossFunctions;

/** Options for {@link getLoss}. */
export interface LossOptions<A extends LossApplication = LossApplication> {
  /** Which application's names to look in; default "segmentation". */
  application?: A;
  /** Number of classes (segmentation and classification). */
  nClasses?: number;
  /** Softmax the prediction before a segmentation loss that does not take logits (default true). */
  softmax?: boolean;
  /** NiftyNet `loss_func_params`. */
  params?: LossParams;
}

/** A registry entry: a name within an application and a factory for the loss function. */
export interface LossDefinition<A extends LossApplication = LossApplication> {
  readonly application: A;
  readonly name: string;
  create(options: LossOptions<A>): LossFunctions[A];
}

const registry = new Map<LossApplication, Map<string, LossDefinition>>();

function requireClasses(options: LossOptions, name: string): number {
  const n = options.nClasses;
  if (n === undefined) throw new Error(`loss_type ${name}: nClasses is required`);
  return n;
}

/**
 * Adds a loss (a plugin, or a replacement for a built-in of the same name).
 *
 * @example
 * ```ts
 * registerLoss({ application: "regression", name: "Zero", create: () => () => tf.scalar(0) });
 * ```
 */
export function registerLoss<A extends LossApplication>(definition: LossDefinition<A>): void {
  if (!registry.has(definition.application)) registry.set(definition.application, new Map());
  registry.get(definition.application)!.set(definition.name, definition as unknown as LossDefinition);
}

/** The registered `loss_type` names of one application, sorted. */
export function lossNames(application: LossApplication = "segmentation"): string[] {
  return [...(registry.get(application)?.keys() ?? [])].sort();
}

/**
 * Resolves a `loss_type` name to a loss function, or fails with `unknown loss_type X; did you mean Y`.
 *
 * @example
 * ```ts
 * const loss = getLoss("Dice_NS", { nClasses: 3 });
 * const value = loss(logits, labels); // tf.Scalar
 * ```
 */
export function getLoss<A extends LossApplication = "segmentation">(
  name: string,
  options: LossOptions<A> = {},
): LossFunctions[A] {
  const application = (options.application ?? "segmentation") as A;
  const table = registry.get(application);
  if (!table) throw new Error(`unknown loss application "${application}"; expected one of ${[...registry.keys()]}`);
  const entry = table.get(name);
  if (!entry) {
    const hint = closestMatch(name, table.keys());
    throw new Error(
      `unknown loss_type ${name} for ${application}${hint ? `; did you mean ${hint}?` : ""} ` +
        `(known: ${lossNames(application).join(", ")})`,
    );
  }
  return (entry as unknown as LossDefinition<A>).create({ ...options, application });
}

for (const spec of SEGMENTATION_LOSSES) {
  registerLoss({
    application: "segmentation",
    name: spec.name,
    create: (options) =>
      segmentationLoss(spec, {
        nClasses: requireClasses(options, spec.name),
        softmax: options.softmax,
        params: options.params,
      }),
  });
}
for (const spec of REGRESSION_LOSSES) {
  registerLoss({ application: "regression", name: spec.name, create: (o) => regressionLoss(spec, o) });
}
registerLoss({
  application: "classification",
  name: "CrossEntropy",
  create: (options) => {
    const nClasses = requireClasses(options, "CrossEntropy");
    return (prediction: tf.Tensor | readonly tf.Tensor[], groundTruth: tf.Tensor) =>
      classificationCrossEntropy(prediction, groundTruth, { nClasses });
  },
});
registerLoss({ application: "gan", name: "CrossEntropy", create: (options) => ganCrossEntropy(options.params) });
registerLoss({ application: "autoencoder", name: "VariationalLowerBound", create: () => variationalLowerBound });

/**
 * Loads a loss plugin module (a path or URL, as NiftyNet's `loss_type=module.path` import) and registers what it
 * exports: `lossDefinitions` (an array of {@link LossDefinition}) or a default export (one or an array). Returns
 * the registered names.
 *
 * @example
 * ```ts
 * await loadLossPlugin("./my_losses.ts"); // export const lossDefinitions = [{ application: "segmentation", … }]
 * ```
 */
export async function loadLossPlugin(specifier: string | URL): Promise<string[]> {
  const module = await importPlugin(String(specifier), { what: "loss plugin" });
  const exported = module.lossDefinitions ?? module.default;
  const list = (Array.isArray(exported) ? exported : [exported]) as LossDefinition[];
  if (exported === undefined || list.some((d) => !d || typeof d.name !== "string" || typeof d.create !== "function")) {
    throw new Error(
      `loss plugin "${specifier}" must export lossDefinitions (or a default) of { application, name, create }`,
    );
  }
  for (const definition of list) {
    if (!registry.has(definition.application)) {
      throw new Error(
        `loss plugin "${specifier}": unknown application "${definition.application}" for ${definition.name}`,
      );
    }
    registerLoss(definition);
  }
  return list.map((d) => d.name);
}
