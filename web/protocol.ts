/**
 * Messages between the page (`app.ts`) and its worker (`worker.ts`). Cancelling is terminating the worker; the page
 * then starts a fresh one and sends the scan again.
 *
 * @module
 */
import type { BrowserBackend } from "./backend.ts";

/** What the page asks. */
export type Request =
  | { readonly type: "load"; readonly name: string; readonly bytes: ArrayBuffer }
  | { readonly type: "segment"; readonly id: string; readonly backend: BrowserBackend }
  | { readonly type: "graph"; readonly id: string }
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
  | { readonly type: "error"; readonly message: string };
