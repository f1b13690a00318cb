/**
 * The zoo's entries: brainchop's 8 published MeshNet weight sets in its 11 distinct menu behaviours (plus the
 * light 18-class variant), with the ids scripts rely on. Facts from brainchop's `brainchop-parameters.js` and model
 * files; see `../shared/data/brainchop/README.md`.
 *
 * @module
 */
import type { ZooFile } from "./files.ts";
import { BRAINCHOP_FILES } from "./_brainchop_files.ts";
import {
  LABELS_APARC104,
  LABELS_APARC50,
  LABELS_GWM,
  LABELS_GWM_HIGH,
  LABELS_MASK5,
  LABELS_MINDGRAB,
  LABELS_SUB21,
  LABELS_SUB30,
  type ZooLabel,
} from "./_brainchop_labels.ts";
import { validateManifest, type ZooManifest } from "./manifest.ts";

const BRAINCHOP_CITATION = "Masoud M, Hu F, Plis S. Brainchop: In-browser MRI volumetric segmentation and rendering. " +
  "Journal of Open Source Software 8(83):5098, 2023. doi:10.21105/joss.05098";
const MESHNET_CITATION =
  "Fedorov A, Johnson J, Damaraju E, Ozerin A, Calhoun V, Plis S. End-to-end learning of brain " +
  "tissue segmentation from imperfect labeling. IJCNN 2017. arXiv:1612.00940";
const LICENSE = "MIT (neuroneural/brainchop)";
const EXAMPLE_INPUT = "../shared/data/brainchop/t1_crop.nii.gz";
const BRAIN: readonly ZooLabel[] = [
  { value: 0, name: "background", rgb: [0, 0, 0] },
  { value: 1, name: "brain", rgb: [255, 255, 255] },
];

const MESHNET_DILATIONS = [1, 2, 4, 8, 16, 8, 4, 2, 1];

interface WeightSet {
  readonly dir: string;
  readonly shard: string;
  readonly channels: number;
  readonly dilations: readonly number[];
  readonly actiFunc: "relu" | "elu" | "gelu";
  readonly numClasses: number;
  readonly normalization?: "instance";
}

const WEIGHTS = {
  model5: {
    dir: "model5_gw_ae",
    shard: "group1-shard1of1.bin",
    channels: 5,
    dilations: MESHNET_DILATIONS,
    actiFunc: "relu",
    numClasses: 3,
  },
  model11: {
    dir: "model11_gw_ae",
    shard: "group1-shard1of1.bin",
    channels: 11,
    dilations: [1, 2, 4, 8, 4, 2, 2, 1],
    actiFunc: "relu",
    numClasses: 3,
  },
  model20: {
    dir: "model20chan3cls",
    shard: "model.bin",
    channels: 20,
    dilations: MESHNET_DILATIONS,
    actiFunc: "elu",
    numClasses: 3,
  },
  model18: {
    dir: "model18cls",
    shard: "model.bin",
    channels: 21,
    dilations: MESHNET_DILATIONS,
    actiFunc: "elu",
    numClasses: 18,
  },
  model30x18: {
    dir: "model30chan18cls",
    shard: "model.bin",
    channels: 30,
    dilations: MESHNET_DILATIONS,
    actiFunc: "elu",
    numClasses: 18,
  },
  model30x50: {
    dir: "model30chan50cls",
    shard: "model.bin",
    channels: 30,
    dilations: MESHNET_DILATIONS,
    actiFunc: "elu",
    numClasses: 50,
  },
  model104: {
    dir: "model21_104class",
    shard: "group1-shard1of1.bin",
    channels: 21,
    dilations: [1, 2, 2, 4, 4, 8, 8, 16],
    actiFunc: "relu",
    numClasses: 104,
  },
  mindgrab: {
    dir: "mindgrab",
    shard: "model.bin",
    channels: 15,
    dilations: [16, 8, 4, 2, 1, 16, 8, 4, 2, 1, 16, 8, 4, 2, 1, 16, 8, 4, 2, 1, 16, 8, 4, 2, 1],
    actiFunc: "gelu",
    numClasses: 2,
    normalization: "instance",
  },
} as const satisfies Record<string, WeightSet>;

function published(dir: string, name: string): ZooFile {
  const file = BRAINCHOP_FILES[`models/${dir}/${name}`];
  if (!file) throw new Error(`zoo: no published file models/${dir}/${name}`);
  return file;
}

interface EntrySpec {
  readonly id: string;
  readonly title: string;
  readonly task: ZooManifest["task"];
  readonly description: string;
  readonly upstream: string;
  readonly weights: WeightSet;
  readonly colormap?: string;
  readonly quantile?: boolean;
  readonly padding: number;
  readonly threshold: number;
  readonly preModel?: string;
  readonly kind: ZooManifest["output"]["kind"];
  readonly labels: readonly ZooLabel[];
  readonly citations?: readonly string[];
}

function entry(spec: EntrySpec): ZooManifest {
  const w = spec.weights;
  const modelJson = published(w.dir, "model.json");
  const files = [modelJson, published(w.dir, w.shard), ...(spec.colormap ? [published(w.dir, spec.colormap)] : [])];
  return validateManifest({
    id: spec.id,
    title: spec.title,
    task: spec.task,
    description: spec.description,
    citation: [BRAINCHOP_CITATION, ...(spec.citations ?? [MESHNET_CITATION])].join("; "),
    license: LICENSE,
    upstream: spec.upstream,
    network: {
      name: "meshnet",
      options: {
        numClasses: w.numClasses,
        channels: w.channels,
        dilations: [...w.dilations],
        actiFunc: w.actiFunc,
        withBias: w.normalization !== "instance",
        normalization: w.normalization ?? null,
      },
    },
    weights: { format: "tfjs-layers", modelJson, files },
    input: {
      conform: { shape: [256, 256, 256], voxelSize: [1, 1, 1], axcodes: "LIA" },
      normalization: spec.quantile ? { kind: "quantile", low: 0.05, high: 0.95 } : { kind: "minmax" },
      crop: { threshold: spec.preModel ? 0 : spec.threshold, padding: spec.padding },
      preModel: spec.preModel ?? null,
    },
    output: {
      kind: spec.kind,
      labels: spec.labels.map((l) => ({ ...l, rgb: [...l.rgb] })),
      largestComponent: "foreground",
    },
    example: { command: `zoo run ${spec.id} t1.nii.gz -o ${spec.id}.nii.gz`, input: EXAMPLE_INPUT },
  });
}

/** Every zoo entry, in display order. */
export const ZOO_ENTRIES: readonly ZooManifest[] = [
  entry({
    id: "gwm-light",
    title: "Tissue GWM (light)",
    task: "tissue",
    description: "grey/white matter segmentation; 5-channel MeshNet, whole T1 in one pass (fast, small)",
    upstream: "brainchop: ⚡ Tissue GWM (light)",
    weights: WEIGHTS.model5,
    colormap: "colormap3.json",
    padding: 18,
    threshold: 0,
    kind: "labels",
    labels: LABELS_GWM,
  }),
  entry({
    id: "gwm-high-acc",
    title: "Tissue GWM (High Acc)",
    task: "tissue",
    description: "grey/white matter segmentation; 20-channel MeshNet, quantile normalisation, thresholded crop",
    upstream: "brainchop: 🔪 Tissue GWM (High Acc)",
    weights: WEIGHTS.model20,
    colormap: "colormap.json",
    quantile: true,
    padding: 0,
    threshold: 0.2,
    kind: "labels",
    labels: LABELS_GWM_HIGH,
  }),
  entry({
    id: "subcortical-gwm",
    title: "Subcortical + GWM",
    task: "parcellation",
    description: "17 regions (grey/white matter + subcortical structures); 30-channel MeshNet",
    upstream: "brainchop: 🪓 Subcortical + GWM (High Mem, Fast)",
    weights: WEIGHTS.model30x18,
    colormap: "colormap.json",
    padding: 0,
    threshold: 0.2,
    kind: "labels",
    labels: LABELS_SUB30,
  }),
  entry({
    id: "subcortical-gwm-light",
    title: "Subcortical + GWM (light)",
    task: "parcellation",
    description: "17 regions (grey/white matter + subcortical structures); lighter 21-channel MeshNet (model18cls)",
    upstream: "brainchop: 🪓 Subcortical + GWM (Low Mem, Faster)",
    weights: WEIGHTS.model18,
    colormap: "colormap.json",
    padding: 0,
    threshold: 0.2,
    kind: "labels",
    labels: LABELS_SUB21,
  }),
  entry({
    id: "subcortical-gwm-failsafe",
    title: "Subcortical + GWM (Failsafe)",
    task: "parcellation",
    description: "17 regions; cropped to the brain found by gwm-light first (for hard inputs)",
    upstream: "brainchop: 🔪🪓 Subcortical + GWM (Failsafe, Less Acc)",
    weights: WEIGHTS.model30x18,
    colormap: "colormap.json",
    padding: 0,
    threshold: 0,
    preModel: "gwm-light",
    kind: "labels",
    labels: LABELS_SUB30,
  }),
  entry({
    id: "aparc50",
    title: "Aparc+Aseg 50",
    task: "parcellation",
    description: "FreeSurfer aparc+aseg with cortical homologues merged (50 classes); gwm-light pre-model crop",
    upstream: "brainchop: 🔪 Aparc+Aseg 50 (High Mem, Fast)",
    weights: WEIGHTS.model30x50,
    colormap: "colormap.json",
    quantile: true,
    padding: 0,
    threshold: 0,
    preModel: "gwm-light",
    kind: "labels",
    labels: LABELS_APARC50,
  }),
  entry({
    id: "aparc104",
    title: "Aparc+Aseg 104",
    task: "parcellation",
    description: "FreeSurfer aparc+aseg, Desikan-Killiany cortex + subcortical regions (104 classes)",
    upstream: "brainchop: 🔪 Aparc+Aseg 104 (High Mem, Fast)",
    weights: WEIGHTS.model104,
    colormap: "colormap.json",
    padding: 0,
    threshold: 0,
    kind: "labels",
    labels: LABELS_APARC104,
  }),
  entry({
    id: "brain-extract-fast",
    title: "Extract the Brain (FAST)",
    task: "brain-extraction",
    description: "skull stripping: the input times the brain mask of the 5-channel GWM model",
    upstream: "brainchop: ⚡ Extract the Brain (FAST)",
    weights: WEIGHTS.model5,
    padding: 18,
    threshold: 0,
    kind: "extracted",
    labels: BRAIN,
  }),
  entry({
    id: "brain-extract-high-acc",
    title: "Extract the Brain (High Acc)",
    task: "brain-extraction",
    description: "skull stripping with the 11-channel GWM model",
    upstream: "brainchop: 🔪 Extract the Brain (High Acc, Slow)",
    weights: WEIGHTS.model11,
    padding: 0,
    threshold: 0,
    kind: "extracted",
    labels: BRAIN,
  }),
  entry({
    id: "brain-mask-fast",
    title: "Brain Mask (FAST)",
    task: "brain-mask",
    description: "binary brain mask from the 5-channel GWM model",
    upstream: "brainchop: ⚡ Brain Mask (FAST)",
    weights: WEIGHTS.model5,
    colormap: "colormap.json",
    padding: 17,
    threshold: 0,
    kind: "mask",
    labels: LABELS_MASK5,
  }),
  entry({
    id: "brain-mask-high-acc",
    title: "Brain Mask (High Acc)",
    task: "brain-mask",
    description: "binary brain mask from the 11-channel GWM model, quantile normalisation",
    upstream: "brainchop: 🔪 Brain Mask (High Acc, Low Mem)",
    weights: WEIGHTS.model11,
    quantile: true,
    padding: 0,
    threshold: 0,
    kind: "mask",
    labels: BRAIN,
  }),
  entry({
    id: "mindgrab",
    title: "MindGrab omnimodal skull strip",
    task: "brain-mask",
    description: "modality-agnostic brain mask; 25 × 15-channel MeshNet with GELU and hidden instance norm",
    upstream: "brainchop: omnimodal Skull Strip (mindgrab)",
    weights: WEIGHTS.mindgrab,
    colormap: "colormap.json",
    padding: 20,
    threshold: 0.5,
    kind: "mask",
    labels: LABELS_MINDGRAB,
    citations: [
      "MindGrab, neuroneural/brainchop (model files public/models/mindgrab)",
      MESHNET_CITATION,
    ],
  }),
];
