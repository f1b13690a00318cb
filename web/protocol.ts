/**
 * Messages between the page (`app.ts`) and its worker (`worker.ts`). Cancelling is terminating the worker; the page
 * then starts a fresh one and sends the scan again.
 *
 * @module
 */
import type { BrowserBackend } from "./backend.ts";

/** Fine-tuning settings (the page's form, the `niftyts.finetune` hook). */
export interface FineTuneSettings {
  readonly iterations: number;
  readonly learningRate: number;
  /** Edge of the cubic training window, voxels of the conformed grid. */
  readonly windowSize: number;
  /** NiftyNet `vars_to_freeze` regex ("" freezes nothing). */
  readonly varsToFreeze: string;
  /** Seeds the choice of windows. */
  readonly seed: number;
  /** The backend asked for; training may fall back to cpu (see `training_backend.ts`). */
  readonly backend: BrowserBackend;
}

/** What the page asks. */
export type Request =
  | { readonly type: "load"; readonly name: string; readonly bytes: ArrayBuffer }
  | {
    readonly type: "segment";
    readonly id: string;
    readonly backend: BrowserBackend;
    /** Segment with the fine-tuned weights of `id`. */
    readonly tuned?: boolean;
  }
  | { readonly type: "graph"; readonly id: string }
  | {
    readonly type: "finetune";
    readonly id: string;
    /** A label volume on the scan's grid as NIfTI bytes (0 unlabelled, 1… classes, 255 background). */
    readonly labels: { readonly name: string; readonly bytes: ArrayBuffer };
    readonly settings: FineTuneSettings;
  }
  | { readonly type: "checkpoint" }
  /** A DICOM folder's files: one series, read by `decodeDicomFiles`. */
  | {
    readonly type: "dicom";
    readonly name: string;
    readonly files: readonly { readonly name: string; readonly bytes: ArrayBuffer }[];
  };

/** A label of the result, with its colour and volume. */
export interface ResultLabel {
  readonly value: number;
  readonly name: string;
  readonly rgb: readonly [number, number, number];
  readonly voxels: number;
  readonly ml: number;
}

/** What the worker answers. */
export type Reply =
  | {
    readonly type: "loaded";
    readonly shape: readonly number[];
    readonly pixdim: readonly number[];
    readonly datatype: string;
    /** The volume as NIfTI-1 bytes, for the viewer (DICOM input). */
    readonly nifti?: ArrayBuffer;
  }
  /** `fraction` −1: a message only (a stage, a retry or a move to another backend), the bar stays. */
  | { readonly type: "progress"; readonly fraction: number; readonly message: string }
  | {
    readonly type: "segmented";
    /** The label map as NIfTI-1 bytes on the input's grid. */
    readonly nifti: ArrayBuffer;
    readonly labels: readonly ResultLabel[];
    readonly backend: BrowserBackend;
    readonly seconds: number;
    readonly notes: readonly string[];
  }
  | { readonly type: "graph"; readonly html: string }
  | {
    readonly type: "loss";
    readonly iteration: number;
    readonly iterations: number;
    readonly loss: number;
    readonly backend: BrowserBackend;
  }
  | {
    readonly type: "finetuned";
    readonly losses: readonly number[];
    readonly backend: BrowserBackend;
    /** Which backend trained and why. */
    readonly note: string;
    /** Labelled voxels on the conformed grid. */
    readonly labelled: number;
    readonly frozen: number;
    readonly variables: number;
    readonly seconds: number;
  }
  | { readonly type: "checkpoint"; readonly bytes: ArrayBuffer; readonly name: string }
  | { readonly type: "error"; readonly message: string };
