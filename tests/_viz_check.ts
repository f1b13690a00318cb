/**
 * Runs the independent Python event-file checker (tests/reference/checkers/viz_event_check.py) for the viz tests.
 *
 * @module
 */
import { referencePythonAvailable } from "./_util.ts";

const CHECKER = new URL("./reference/checkers/viz_event_check.py", import.meta.url).pathname;

/** Whether /usr/bin/python3 can run the checker; warns once with the reason when it cannot. */
export const checkerAvailable: boolean = referencePythonAvailable([]);
if (!checkerAvailable) {
  console.warn(
    "viz event-file checks skipped: /usr/bin/python3 is missing (tests/reference/checkers/viz_event_check.py)",
  );
}

/** The checker's decoded view of an event file. */
export interface CheckedEvents {
  records: number;
  crc_checked_by: string;
  events: {
    wall_time: number;
    step: number;
    file_version?: string;
    graph_def?: { nodes: unknown[] };
    summary?: {
      tag: string;
      simple_value?: number;
      image?: {
        height: number;
        width: number;
        colorspace: number;
        png_signature_ok: boolean;
        decoded?: { mode: string; size: number[]; pixels: number[] };
      };
    }[];
  }[];
}

/** Decodes and CRC-checks an event file with the Python checker; throws with its message when it rejects the file. */
export async function checkEventFile(path: string): Promise<CheckedEvents> {
  const { code, stdout, stderr } = await new Deno.Command("/usr/bin/python3", { args: [CHECKER, path] }).output();
  const dec = new TextDecoder();
  if (code !== 0) throw new Error(`viz_event_check.py rejected "${path}": ${dec.decode(stderr)}`);
  return JSON.parse(dec.decode(stdout));
}
