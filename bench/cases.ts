/**
 * The benchmark's cases, shared verbatim with the PyTorch side (`bench/reference/torch_bench.py` receives them as
 * JSON), so both run exactly the same shapes.
 *
 * @module
 */

import { zooBenchCases } from "./zoo_cases.ts";

/** What a case times. */
export type BenchKind =
  | "conv_fwd"
  | "conv_fwd_bwd"
  | "conv_transpose_fwd"
  | "conv_transpose_fwd_bwd"
  | "unet_step"
  | "highres3dnet_step"
  | "sliding_window"
  | "meshnet_volume"
  | "toynet_step"
  | "zoo_run";

/** One timed case (batch 1, fp32, channels-last on our side, channels-first in PyTorch). */
export interface BenchCase {
  /** Row name, also the key in `bench/results/latest.json`. */
  readonly case: string;
  readonly kind: BenchKind;
  /** Cube side of the input (for transposed conv: of the low-resolution input). */
  readonly size: number;
  readonly cin: number;
  readonly cout: number;
  readonly kernel: number;
  readonly stride: number;
  readonly dilation: number;
  /** Timed repetitions after one warm-up; the median is reported. */
  readonly repeats: number;
  /** sliding_window: the window side (windows tile the volume without overlap). */
  readonly window?: number;
  /** sliding_window: the network (default the bench U-Net). */
  readonly network?: "unet" | "highres3dnet";
  /** toynet_step: the training window (batch 2), as the demo's. */
  readonly windowShape?: readonly [number, number, number];
  /** Part of `--quick`. */
  readonly quick: boolean;
  /** meshnet_volume: hidden channels and activation of the MeshNet (dilations 1, 2, 4, 8, 16, 8, 4, 2, 1). */
  readonly channels?: number;
  readonly activation?: "relu" | "elu";
  /**
   * Timed once per side, each in a process of its own whose peak RSS is reported with the time (whole-volume and
   * sliding-window inference, training steps: the memory is part of the result).
   */
  readonly ownProcess?: boolean;
  /** zoo_run: the zoo entry id (bench/zoo_cases.ts). */
  readonly zoo?: string;
}

/** brainchop's MeshNet on a whole 256³ volume, labels out (argmax), random weights of the real architecture. */
function meshnetVolume(channels: number, classes: number, activation: "relu" | "elu"): BenchCase {
  return {
    case: `MeshNet 256³ full volume ${channels} ch (${activation}, ${classes} classes)`,
    kind: "meshnet_volume",
    size: 256,
    cin: 1,
    cout: classes,
    kernel: 3,
    stride: 1,
    dilation: 16,
    repeats: 1,
    quick: false,
    channels,
    activation,
    ownProcess: true,
  };
}

function conv(
  kind: "conv_fwd" | "conv_fwd_bwd",
  size: number,
  cin: number,
  cout: number,
  { dilation = 1, stride = 1, quick = false } = {},
): BenchCase {
  const what = kind === "conv_fwd" ? "fwd" : "fwd+bwd";
  const extra = `${dilation > 1 ? ` d${dilation}` : ""}${stride > 1 ? ` s${stride}` : ""}`;
  const big = size ** 3 * (cin + cout) > 64 ** 3 * 48;
  return {
    case: `conv3d ${what} ${size}³ ${cin}→${cout} k3${extra}`,
    kind,
    size,
    cin,
    cout,
    kernel: 3,
    stride,
    dilation,
    repeats: kind === "conv_fwd" ? (big ? 5 : 9) : big ? 3 : 5,
    quick,
  };
}

/** Every case; `quick` keeps a subset whose rows take about 2 minutes on 2 idle cores (7 at load average 15). */
export function benchCases({ quick = false }: { quick?: boolean } = {}): BenchCase[] {
  const all: BenchCase[] = [
    conv("conv_fwd", 64, 8, 16, { quick: true }),
    conv("conv_fwd_bwd", 64, 8, 16, { quick: true }),
    conv("conv_fwd", 32, 32, 32, { quick: true }),
    conv("conv_fwd_bwd", 32, 32, 32),
    conv("conv_fwd", 32, 64, 64),
    conv("conv_fwd_bwd", 32, 64, 64),
    conv("conv_fwd", 96, 8, 16),
    conv("conv_fwd_bwd", 96, 8, 16),
    conv("conv_fwd_bwd", 64, 16, 32, { stride: 2 }),
    conv("conv_fwd", 64, 16, 16, { dilation: 2, quick: true }),
    conv("conv_fwd_bwd", 64, 16, 16, { dilation: 2 }), // PyTorch takes 7 s per call here (slow_conv_dilated3d)
    conv("conv_fwd", 64, 16, 16, { dilation: 4 }),
    conv("conv_fwd_bwd", 64, 16, 16, { dilation: 4 }),
    {
      case: "conv3dTranspose fwd 32³ 32→16 k2 s2",
      kind: "conv_transpose_fwd",
      size: 32,
      cin: 32,
      cout: 16,
      kernel: 2,
      stride: 2,
      dilation: 1,
      repeats: 9,
      quick: true,
    },
    {
      case: "conv3dTranspose fwd+bwd 32³ 32→16 k3 s2",
      kind: "conv_transpose_fwd_bwd",
      size: 32,
      cin: 32,
      cout: 16,
      kernel: 3,
      stride: 2,
      dilation: 1,
      repeats: 5,
      quick: false,
    },
    {
      case: "U-Net train step 64³ (Adam)",
      kind: "unet_step",
      size: 64,
      cin: 1,
      cout: 2,
      kernel: 3,
      stride: 1,
      dilation: 1,
      repeats: 5,
      quick: true,
      ownProcess: true,
    },
    {
      case: "HighRes3DNet train step 64³ (Adam, ReLU)",
      kind: "highres3dnet_step",
      size: 64,
      cin: 1,
      cout: 2,
      kernel: 3,
      stride: 1,
      dilation: 4,
      repeats: 1, // about 40 s per step here: one warm-up, one timed
      quick: false,
      ownProcess: true,
    },
    {
      case: "sliding-window U-Net inference 192³ (64³ windows)",
      kind: "sliding_window",
      size: 192,
      cin: 1,
      cout: 2,
      kernel: 3,
      stride: 1,
      dilation: 1,
      repeats: 1,
      window: 64,
      quick: false,
      ownProcess: true,
    },
    {
      case: "sliding-window HighRes3DNet inference 192³ (64³ windows)",
      kind: "sliding_window",
      size: 192,
      cin: 1,
      cout: 2,
      kernel: 3,
      stride: 1,
      dilation: 4,
      repeats: 1,
      window: 64,
      network: "highres3dnet",
      quick: false,
      ownProcess: true,
    },
    {
      case: "ToyNet demo train step (batch 2, 32×32×16, Adam)",
      kind: "toynet_step",
      size: 32,
      cin: 1,
      cout: 4,
      kernel: 3,
      stride: 1,
      dilation: 1,
      repeats: 21,
      windowShape: [32, 32, 16],
      quick: true,
      ownProcess: true,
    },
    meshnetVolume(5, 3, "relu"),
    meshnetVolume(21, 18, "elu"),
    ...zooBenchCases(),
  ];
  return all.filter((c) => !quick || c.quick);
}
