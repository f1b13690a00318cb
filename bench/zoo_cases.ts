/**
 * Zoo rows of the benchmark: `zoo run ID` end to end on the real 256³ T1 (`../shared/data/brainchop/t1_crop.nii.gz`:
 * read, normalise, crop, network, largest component, NIfTI + CSV written) against the PyTorch reference pipeline
 * (`tests/reference/zoo_pipeline.py --full ID`, run by `bench/reference/torch_bench.py`), each side in a process of its
 * own so that its peak RSS is part of the row. Full mode only (each row takes a minute or two); left out, with a
 * note, where the shared data is absent.
 *
 * @module
 */
import type { BenchCase } from "./cases.ts";

const BRAINCHOP = new URL("../../shared/data/brainchop/", import.meta.url).pathname;
const T1 = `${BRAINCHOP}t1_crop.nii.gz`;

/** The zoo entries timed: the 5-channel tissue model and the 21-channel 104-class parcellation. */
export const ZOO_BENCH_IDS = ["gwm-light", "aparc104"] as const;

function dataPresent(): boolean {
  try {
    return Deno.statSync(T1).isFile;
  } catch {
    return false;
  }
}

let warned = false;

/** One row per {@link ZOO_BENCH_IDS} entry; none (with a note on stderr) when the shared T1 is absent. */
export function zooBenchCases(): BenchCase[] {
  if (!dataPresent()) {
    if (!warned) console.warn(`bench: zoo rows left out: ${T1} is absent`);
    warned = true;
    return [];
  }
  return ZOO_BENCH_IDS.map((id) => ({
    case: `zoo run ${id} 256³ T1 end to end`,
    kind: "zoo_run",
    size: 256,
    cin: 1,
    cout: 0,
    kernel: 3,
    stride: 1,
    dilation: 1,
    repeats: 1,
    quick: false,
    zoo: id,
    ownProcess: true,
  }));
}

/** Runs one zoo row in this process (weights from the shared mirror into a temporary cache): its time in ms. */
export async function runZooCase(c: BenchCase): Promise<number> {
  if (!c.zoo) throw new Error(`bench case "${c.case}": no zoo entry id`);
  const { zooRunCommand } = await import("../src/commands/zoo.ts");
  const dir = await Deno.makeTempDir({ prefix: "niftyts_bench_zoo_" });
  try {
    const start = performance.now();
    await zooRunCommand(c.zoo, [T1], {
      out: `${dir}/out.nii.gz`,
      mirror: BRAINCHOP,
      cacheDir: `${dir}/cache`,
      log: () => {},
    });
    return performance.now() - start;
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}
