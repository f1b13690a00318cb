/// <reference lib="dom" />
/**
 * The web app's page script: open a NIfTI file or a DICOM folder (picker or drag-and-drop), view it in NiiVue,
 * segment it with a zoo entry in a worker (progress, cancel), overlay the labels in their colours, list label
 * volumes, download the label map on the input's grid, show the network's scoped graph. Nothing leaves the
 * machine: the only requests are the app's own files and, when asked, the zoo weights from the same origin.
 *
 * Automation hook (tests, power users): `window.niftyts` with `load(bytes, name?)`, `loadDicom(files, name?)`,
 * `scan()`, `segment(zooId, options?)`, `result()`, `status()`, and fine-tuning's `finetune(args)` and `checkpoint()`
 * (`finetune_panel.ts`).
 *
 * @module
 */
import { loadNiivue } from "../src/deps.ts";
import { ZOO_ENTRIES } from "../zoo/entries.ts";
import { BROWSER_BACKENDS, type BrowserBackend } from "./backend.ts";
import { droppedFolder, folderName, type PickedFile, readPicked } from "./folder.ts";
import type { Reply, Request, ResultLabel } from "./protocol.ts";
import { type FineTuneHook, setupFineTunePanel, showLoss } from "./finetune_panel.ts";

/** The hook on `window.niftyts`. */
export interface NiftyTsHook extends FineTuneHook {
  /** Loads NIfTI or gzipped NIfTI bytes; resolves when the scan is shown (rejects with the message shown). */
  load(bytes: Uint8Array, name?: string): Promise<void>;
  /** Segments the loaded scan with a zoo entry (`tuned`: its fine-tuned weights); resolves when it is shown. */
  segment(zooId: string, options?: { tuned?: boolean }): Promise<void>;
  /** The last label map as NIfTI-1 bytes on the input's grid. */
  result(): Promise<Uint8Array>;
  /** A short state: `ready`, `loading`, `loaded`, `segmenting 42%`, `done`, `cancelled` or `error: …`. */
  status(): string;
  /** Loads a DICOM folder's files (one series); resolves when the volume is shown (rejects with the message shown). */
  loadDicom(files: readonly PickedFile[], name?: string): Promise<void>;
  /** The loaded scan as the page holds it: the file's bytes, or a DICOM series as NIfTI-1 bytes. */
  scan(): Promise<Uint8Array>;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const fileInput = $<HTMLInputElement>("file");
const folderInput = $<HTMLInputElement>("folder");
const modelSelect = $<HTMLSelectElement>("model");
const backendSelect = $<HTMLSelectElement>("backend");
const segmentButton = $<HTMLButtonElement>("segment");
const cancelButton = $<HTMLButtonElement>("cancel");
const downloadLink = $<HTMLAnchorElement>("download");
const graphButton = $<HTMLButtonElement>("graph");
const progress = $<HTMLProgressElement>("progress");
const statusLine = $<HTMLElement>("status");
const errorBox = $<HTMLElement>("error");
const volumesTable = $<HTMLTableSectionElement>("volumes");
const graphFrame = $<HTMLIFrameElement>("graph-view");

let state = "ready";
let scan: { name: string; bytes: Uint8Array } | undefined;
let result: Uint8Array | undefined;
let pending: { resolve: (r: Reply) => void; reject: (e: Error) => void } | undefined;

function setStatus(text: string): void {
  state = text;
  statusLine.textContent = text;
}

function showError(message: string): void {
  errorBox.textContent = message;
  errorBox.hidden = false;
  setStatus(`error: ${message}`);
}

for (const e of ZOO_ENTRIES) modelSelect.add(new Option(`${e.title} (${e.id})`, e.id));
modelSelect.value = "gwm-light";
for (const b of BROWSER_BACKENDS) backendSelect.add(new Option(b, b));
const asked = new URLSearchParams(location.search).get("backend");
backendSelect.value = BROWSER_BACKENDS.includes(asked as BrowserBackend) ? asked! : "webgl";

// The viewer.
const { Niivue } = await loadNiivue();
const nv = new Niivue({ backColor: [0.1, 0.1, 0.12, 1], show3Dcrosshair: true, isResizeCanvas: true });
await nv.attachToCanvas($<HTMLCanvasElement>("viewer"));
nv.setSliceType(nv.sliceTypeMultiplanar);

// The worker: one at a time; cancelling terminates it and the next request starts a fresh one.
let worker: Worker | undefined;
function getWorker(): Worker {
  if (worker) return worker;
  worker = new Worker(new URL("./worker.js", import.meta.url), { type: "module" });
  worker.onmessage = (event: MessageEvent<Reply>) => {
    const reply = event.data;
    if (reply.type === "loss") return showLoss(reply);
    if (reply.type === "progress") {
      if (reply.fraction < 0) { // a message only: shown as the bar's tooltip, notices also in the status line
        progress.title = reply.message;
        return;
      }
      progress.value = reply.fraction;
      setStatus(`segmenting ${Math.round(reply.fraction * 100)}%`);
      return;
    }
    const p = pending;
    pending = undefined;
    if (reply.type === "error") p?.reject(new Error(reply.message));
    else p?.resolve(reply);
  };
  worker.onerror = (event) => {
    event.preventDefault();
    pending?.reject(new Error(`the worker failed: ${event.message || "it could not start"}`));
    pending = undefined;
  };
  return worker;
}

function ask(request: Request, transfer: Transferable[] = []): Promise<Reply> {
  if (pending) return Promise.reject(new Error("busy: wait for the running task or cancel it"));
  return new Promise<Reply>((resolve, reject) => {
    pending = { resolve, reject };
    getWorker().postMessage(request, transfer);
  });
}

async function sendScan(): Promise<void> {
  if (!scan) throw new Error("no scan loaded: open a NIfTI file first");
  const copy = scan.bytes.slice().buffer;
  await ask({ type: "load", name: scan.name, bytes: copy }, [copy]);
}

async function load(bytes: Uint8Array, name = "scan.nii.gz"): Promise<void> {
  errorBox.hidden = true;
  setStatus("loading");
  result = undefined;
  downloadLink.hidden = true;
  volumesTable.replaceChildren();
  const previous = scan;
  scan = { name, bytes: bytes.slice() };
  try {
    await sendScan(); // the worker checks the file first: NiiVue only ever sees good ones
  } catch (e) {
    scan = previous;
    showError((e as Error).message);
    throw e;
  }
  const url = URL.createObjectURL(new Blob([bytes as BlobPart]));
  try {
    nv.closeDrawing(); // painted labels belong to the previous scan's grid
    await nv.loadVolumes([{ url, name }]);
  } finally {
    URL.revokeObjectURL(url);
  }
  segmentButton.disabled = false;
  setStatus("loaded");
}

async function loadDicom(files: readonly PickedFile[], name = "dicom"): Promise<void> {
  errorBox.hidden = true;
  setStatus("loading");
  result = undefined;
  downloadLink.hidden = true;
  volumesTable.replaceChildren();
  let reply: Reply;
  try {
    const copies = files.map((f) => ({ name: f.name, bytes: f.bytes.slice().buffer }));
    reply = await ask({ type: "dicom", name, files: copies }, copies.map((c) => c.bytes));
    if (reply.type !== "loaded" || !reply.nifti) throw new Error(`${name}: unexpected reply ${reply.type}`);
  } catch (e) {
    showError((e as Error).message);
    throw e;
  }
  scan = { name: `${name}.nii`, bytes: new Uint8Array(reply.nifti) };
  const url = URL.createObjectURL(new Blob([scan.bytes as BlobPart]));
  try {
    await nv.loadVolumes([{ url, name: scan.name }]);
  } finally {
    URL.revokeObjectURL(url);
  }
  segmentButton.disabled = false;
  setStatus("loaded");
}

function labelColormap(labels: readonly ResultLabel[]) {
  const max = Math.max(...labels.map((l) => l.value));
  const R: number[] = [], G: number[] = [], B: number[] = [], A: number[] = [], I: number[] = [], names: string[] = [];
  for (let v = 0; v <= max; v++) {
    const l = labels.find((x) => x.value === v);
    R.push(l?.rgb[0] ?? 0);
    G.push(l?.rgb[1] ?? 0);
    B.push(l?.rgb[2] ?? 0);
    A.push(v === 0 ? 0 : 255);
    I.push(v);
    names.push(l?.name ?? String(v));
  }
  return { R, G, B, A, I, labels: names };
}

function showVolumes(labels: readonly ResultLabel[]): void {
  volumesTable.replaceChildren(...labels.map((l) => {
    const row = document.createElement("tr");
    const swatch = document.createElement("td");
    swatch.style.background = `rgb(${l.rgb.join(",")})`;
    swatch.className = "swatch";
    const cells = [String(l.value), l.name, String(l.voxels), l.ml.toFixed(2)].map((t) => {
      const td = document.createElement("td");
      td.textContent = t;
      return td;
    });
    row.append(swatch, ...cells);
    return row;
  }));
}

async function segment(zooId: string, { tuned = false }: { tuned?: boolean } = {}): Promise<void> {
  errorBox.hidden = true;
  if (!scan) {
    const e = new Error("no scan loaded: open a NIfTI file first");
    showError(e.message);
    throw e;
  }
  if (worker === undefined) await sendScan(); // after a cancel: a fresh worker needs the scan again
  modelSelect.value = zooId;
  progress.value = 0;
  cancelButton.disabled = false;
  segmentButton.disabled = true;
  setStatus("segmenting 0%");
  try {
    const reply = await ask({ type: "segment", id: zooId, backend: backendSelect.value as BrowserBackend, tuned });
    if (reply.type !== "segmented") throw new Error(`unexpected reply ${reply.type}`);
    result = new Uint8Array(reply.nifti);
    while (nv.volumes.length > 1) nv.removeVolume(nv.volumes[nv.volumes.length - 1]);
    const url = URL.createObjectURL(new Blob([result as BlobPart]));
    try {
      const overlay = await nv.addVolumeFromUrl({ url, name: "labels.nii", opacity: 0.5 });
      overlay.setColormapLabel(labelColormap(reply.labels));
      nv.updateGLVolume();
    } finally {
      URL.revokeObjectURL(url);
    }
    showVolumes(reply.labels);
    const base = scan.name.replace(/\.nii(\.gz)?$/i, "");
    downloadLink.href = URL.createObjectURL(new Blob([result as BlobPart], { type: "application/octet-stream" }));
    downloadLink.download = `${base}_${zooId}${tuned ? "_finetuned" : ""}_labels.nii`;
    downloadLink.hidden = false;
    progress.value = 1;
    const notes = reply.notes.length > 0 ? `; ${reply.notes.join("; ")}` : "";
    setStatus(`done (${reply.backend}, ${reply.seconds.toFixed(1)} s${tuned ? ", fine-tuned weights" : ""}${notes})`);
  } catch (e) {
    if (state !== "cancelled") showError((e as Error).message);
    throw e;
  } finally {
    cancelButton.disabled = true;
    segmentButton.disabled = false;
  }
}

function cancel(): void {
  worker?.terminate();
  worker = undefined;
  setStatus("cancelled");
  pending?.reject(new Error("cancelled"));
  pending = undefined;
  progress.value = 0;
}

async function openFile(file: File): Promise<void> {
  await load(new Uint8Array(await file.arrayBuffer()), file.name).catch(() => {});
}

async function openFolder(files: File[], name: string): Promise<void> {
  await loadDicom(await readPicked(files), name).catch(() => {});
}

fileInput.addEventListener("change", () => {
  const file = fileInput.files?.[0];
  if (file) openFile(file);
});
folderInput.addEventListener("change", () => {
  const files = [...folderInput.files ?? []];
  if (files.length > 0) openFolder(files, folderName(files));
});
document.addEventListener("dragover", (e) => e.preventDefault());
document.addEventListener("drop", async (e) => {
  e.preventDefault();
  const files = [...e.dataTransfer?.files ?? []];
  const folder = await droppedFolder(e.dataTransfer?.items); // a folder, or several files: a DICOM series
  if (folder) openFolder(folder.files, folder.name);
  else if (files.length > 1) openFolder(files, "dicom");
  else if (files[0]) openFile(files[0]);
});
segmentButton.addEventListener("click", () => segment(modelSelect.value).catch(() => {}));
cancelButton.addEventListener("click", cancel);
graphButton.addEventListener("click", async () => {
  try {
    if (worker === undefined && scan) await sendScan();
    const reply = await ask({ type: "graph", id: modelSelect.value });
    if (reply.type === "graph") {
      graphFrame.srcdoc = reply.html;
      graphFrame.hidden = false;
    }
  } catch (e) {
    showError((e as Error).message);
  }
});
addEventListener("error", (e) => showError(e.message));
addEventListener("unhandledrejection", (e) => showError(String((e.reason as Error)?.message ?? e.reason)));

const fineTuning = setupFineTunePanel({
  async ask(request, transfer) {
    if (worker === undefined) await sendScan(); // after a cancel: a fresh worker needs the scan again
    return ask(request, transfer);
  },
  segment,
  async drawing() {
    if (!nv.drawBitmap || !nv.drawBitmap.some((v) => v !== 0)) return undefined;
    const bytes = await nv.saveImage({ filename: "", isSaveDrawing: true, volumeByIndex: 0 });
    return bytes instanceof Uint8Array ? bytes : undefined;
  },
  setPen(value) {
    nv.setDrawingEnabled(value !== undefined);
    if (value !== undefined) nv.setPenValue(value, false);
  },
  setStatus,
  showError,
  hideError: () => void (errorBox.hidden = true),
  modelSelect,
  backendSelect,
});

const hook: NiftyTsHook = {
  ...fineTuning,
  load,
  segment,
  result: () => result ? Promise.resolve(result.slice()) : Promise.reject(new Error("no result yet: segment first")),
  status: () => state,
  loadDicom,
  scan: () => scan ? Promise.resolve(scan.bytes.slice()) : Promise.reject(new Error("no scan loaded")),
};
(globalThis as unknown as { niftyts: NiftyTsHook }).niftyts = hook;
setStatus("ready");
