/// <reference lib="dom" />
/**
 * The page's fine-tuning panel: labels painted on the scan with NiiVue's drawing tools (one pen per class of the
 * chosen entry, plus background and eraser) or loaded as a label NIfTI on the scan's grid; the settings
 * (iterations, learning rate, window, `vars_to_freeze`); training in the worker with a live loss curve; then
 * segmenting with the tuned weights and downloading them as a safetensors checkpoint. Its hook functions join
 * `window.niftyts` (`finetune`, `checkpoint`).
 *
 * Label values: 0 unlabelled, 1… the entry's classes, 255 background (`zoo/finetune_data.ts`).
 *
 * @module
 */
import { ZOO_ENTRIES } from "../zoo/entries.ts";
import type { BrowserBackend } from "./backend.ts";
import type { FineTuneSettings, Reply, Request } from "./protocol.ts";

/** Arguments of `niftyts.finetune`. */
export interface FineTuneArgs {
  /** The zoo entry to start from (its weights restore the network by name). */
  readonly zooId: string;
  /** A label volume on the scan's grid as (gzipped) NIfTI bytes; default: the labels painted on the scan. */
  readonly labels?: Uint8Array;
  readonly iterations?: number;
  readonly learningRate?: number;
  readonly windowSize?: number;
  /** NiftyNet `vars_to_freeze` regex (default "": nothing frozen). */
  readonly varsToFreeze?: string;
  readonly seed?: number;
}

/** The hook functions the panel adds to `window.niftyts`. */
export interface FineTuneHook {
  /** Fine-tunes in the worker; resolves to the loss of each iteration once the tuned model is ready. */
  finetune(args: FineTuneArgs): Promise<{ losses: number[] }>;
  /** The tuned weights as safetensors bytes (the format `cli.ts` reads as a checkpoint or `restore_from`). */
  checkpoint(): Promise<Uint8Array>;
}

/** What the page lends the panel. */
export interface PanelContext {
  /** Sends a request to the worker (after giving a fresh worker the scan). */
  ask(request: Request, transfer?: Transferable[]): Promise<Reply>;
  /** Segments with the tuned weights (`tuned: true`) as the Segment button does. */
  segment(zooId: string, options: { tuned: boolean }): Promise<void>;
  /** The labels drawn on the scan as NIfTI bytes on its grid, or undefined when nothing is drawn. */
  drawing(): Promise<Uint8Array | undefined>;
  /** Turns drawing on with a pen value, or off (`undefined`). */
  setPen(value: number | undefined): void;
  setStatus(text: string): void;
  showError(message: string): void;
  hideError(): void;
  readonly modelSelect: HTMLSelectElement;
  readonly backendSelect: HTMLSelectElement;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** Draws `losses` as a polyline with its range. */
function drawCurve(canvas: HTMLCanvasElement, losses: readonly number[], total: number): void {
  const g = canvas.getContext("2d");
  if (!g) return;
  const { width: w, height: h } = canvas;
  g.clearRect(0, 0, w, h);
  g.fillStyle = "#222329";
  g.fillRect(0, 0, w, h);
  if (losses.length === 0) return;
  const lo = Math.min(...losses), hi = Math.max(...losses);
  const span = hi - lo || 1;
  const pad = 14;
  const x = (i: number) => pad + (w - 2 * pad) * (total > 1 ? i / (total - 1) : 0.5);
  const y = (v: number) => pad + (h - 2 * pad) * (1 - (v - lo) / span);
  g.strokeStyle = "#8cf";
  g.lineWidth = 2;
  g.beginPath();
  losses.forEach((v, i) => (i === 0 ? g.moveTo(x(i), y(v)) : g.lineTo(x(i), y(v))));
  g.stroke();
  g.fillStyle = "#8cf";
  losses.forEach((v, i) => g.fillRect(x(i) - 2, y(v) - 2, 4, 4));
  g.fillStyle = "#aaa";
  g.font = "11px monospace";
  g.fillText(`loss ${hi.toPrecision(3)}`, 2, 11);
  g.fillText(`${lo.toPrecision(3)}  (${losses.length}/${total} iterations)`, 2, h - 2);
}

/** Wires the panel's controls; returns the hook functions. */
export function setupFineTunePanel(ctx: PanelContext): FineTuneHook {
  const labelsInput = $<HTMLInputElement>("ft-labels");
  const source = $<HTMLSelectElement>("ft-source");
  const paint = $<HTMLInputElement>("ft-paint");
  const pen = $<HTMLSelectElement>("ft-pen");
  const iterations = $<HTMLInputElement>("ft-iterations");
  const rate = $<HTMLInputElement>("ft-lr");
  const windowSize = $<HTMLInputElement>("ft-window");
  const freeze = $<HTMLInputElement>("ft-freeze");
  const run = $<HTMLButtonElement>("ft-run");
  const segmentTuned = $<HTMLButtonElement>("ft-segment");
  const download = $<HTMLAnchorElement>("ft-download");
  const curve = $<HTMLCanvasElement>("ft-curve");
  const note = $<HTMLElement>("ft-note");
  let labelFile: { name: string; bytes: Uint8Array } | undefined;
  let tunedId: string | undefined;

  const fillPens = () => {
    const entry = ZOO_ENTRIES.find((e) => e.id === ctx.modelSelect.value);
    const pens = (entry?.output.labels ?? []).filter((l) => l.value > 0).map((l) =>
      new Option(l.name, String(l.value))
    );
    pen.replaceChildren(...pens, new Option("background", "255"), new Option("eraser", "0"));
  };
  fillPens();
  ctx.modelSelect.addEventListener("change", fillPens);
  const updatePen = () => ctx.setPen(paint.checked ? Number(pen.value) : undefined);
  paint.addEventListener("change", () => {
    if (paint.checked) source.value = "paint";
    updatePen();
  });
  pen.addEventListener("change", updatePen);
  labelsInput.addEventListener("change", async () => {
    const file = labelsInput.files?.[0];
    if (!file) return;
    labelFile = { name: file.name, bytes: new Uint8Array(await file.arrayBuffer()) };
    source.value = "file";
  });

  async function labelsFor(args: FineTuneArgs): Promise<{ name: string; bytes: Uint8Array }> {
    if (args.labels) return { name: "labels.nii", bytes: args.labels };
    if (source.value === "file") {
      if (!labelFile) throw new Error("no label file: choose one, or paint labels on the scan");
      return labelFile;
    }
    const drawn = await ctx.drawing();
    if (!drawn) throw new Error("no labels: paint some on the scan (tick Paint) or load a label file");
    return { name: "painted labels", bytes: drawn };
  }

  async function finetune(args: FineTuneArgs): Promise<{ losses: number[] }> {
    ctx.hideError();
    const settings: FineTuneSettings = {
      iterations: args.iterations ?? Number(iterations.value),
      learningRate: args.learningRate ?? Number(rate.value),
      windowSize: args.windowSize ?? Number(windowSize.value),
      varsToFreeze: args.varsToFreeze ?? freeze.value,
      seed: args.seed ?? 0,
      backend: ctx.backendSelect.value as BrowserBackend,
    };
    const losses: number[] = [];
    run.disabled = true;
    segmentTuned.disabled = true;
    download.hidden = true;
    drawCurve(curve, losses, settings.iterations);
    ctx.setStatus(`fine-tuning 0/${settings.iterations}`);
    try {
      const labels = await labelsFor(args);
      const bytes = labels.bytes.slice().buffer;
      const reply = await ctx.ask({
        type: "finetune",
        id: args.zooId,
        labels: { name: labels.name, bytes },
        settings,
      }, [bytes]);
      if (reply.type !== "finetuned") throw new Error(`unexpected reply ${reply.type}`);
      tunedId = args.zooId;
      drawCurve(curve, reply.losses, settings.iterations);
      note.textContent = `${reply.note}. ${reply.labelled} labelled voxels, ${reply.frozen} of ${reply.variables} ` +
        `variables frozen, ${reply.seconds.toFixed(1)} s.`;
      segmentTuned.disabled = false;
      const checkpoint = await ctx.ask({ type: "checkpoint" });
      if (checkpoint.type === "checkpoint") {
        URL.revokeObjectURL(download.href);
        download.href = URL.createObjectURL(new Blob([checkpoint.bytes], { type: "application/octet-stream" }));
        download.download = checkpoint.name;
        download.hidden = false;
      }
      const first = reply.losses[0], last = reply.losses.at(-1)!;
      ctx.setStatus(`fine-tuned (${reply.backend}, loss ${first.toPrecision(3)} → ${last.toPrecision(3)})`);
      return { losses: [...reply.losses] };
    } catch (e) {
      if (!/^cancelled/.test((e as Error).message)) ctx.showError((e as Error).message);
      throw e;
    } finally {
      run.disabled = false;
    }
  }

  /** Shows one iteration's loss (the worker's `loss` replies). */
  function onLoss(reply: Reply & { type: "loss" }, all: number[]): void {
    all.push(reply.loss);
    drawCurve(curve, all, reply.iterations);
    ctx.setStatus(`fine-tuning ${reply.iteration}/${reply.iterations} on ${reply.backend}`);
  }
  lossListener = (() => {
    let all: number[] = [];
    return (reply: Reply & { type: "loss" }) => {
      if (reply.iteration === 1) all = [];
      onLoss(reply, all);
    };
  })();

  run.addEventListener("click", () => finetune({ zooId: ctx.modelSelect.value }).catch(() => {}));
  segmentTuned.addEventListener("click", () => {
    if (tunedId) ctx.segment(tunedId, { tuned: true }).catch(() => {});
  });

  return {
    finetune,
    async checkpoint() {
      const reply = await ctx.ask({ type: "checkpoint" });
      if (reply.type !== "checkpoint") throw new Error(`unexpected reply ${reply.type}`);
      return new Uint8Array(reply.bytes);
    },
  };
}

let lossListener: ((reply: Reply & { type: "loss" }) => void) | undefined;

/** Passes a worker's `loss` reply to the panel (the page's worker handler calls it). */
export function showLoss(reply: Reply & { type: "loss" }): void {
  lossListener?.(reply);
}
