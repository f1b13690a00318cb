/**
 * The deploy recipes (deploy/): the Kubernetes Job validates against the batch/v1 schema and is an Indexed Job whose
 * shard count matches its completions; the Slurm scripts pass bash -n and shellcheck and compose the right command;
 * the Containerfile pins CI's Deno and installs oneDNN.
 */
import { deepStrictEqual as assertEquals, ok as assert, throws as assertThrows } from "node:assert/strict";
import { loadKubernetesJob, loadYaml } from "../src/deps_deno.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const DEPLOY = `${ROOT}deploy/`;
const decoder = new TextDecoder();

function filesIn(dir: string, pattern: RegExp): string[] {
  return [...Deno.readDirSync(dir)].filter((e) => e.isFile && pattern.test(e.name)).map((e) => `${dir}${e.name}`)
    .sort();
}

async function run(cmd: string, args: string[], env: Record<string, string> = {}) {
  const out = await new Deno.Command(cmd, { args, env, stdout: "piped", stderr: "piped" }).output();
  return { code: out.code, stdout: decoder.decode(out.stdout), stderr: decoder.decode(out.stderr) };
}

function hasCommand(name: string): boolean {
  try {
    return new Deno.Command(name, { args: ["--version"], stdout: "null", stderr: "null" }).outputSync().success;
  } catch {
    return false;
  }
}

Deno.test("kubernetes manifests: valid batch/v1 Jobs, Indexed, NIFTYTS_SHARD_COUNT = completions; a broken one fails", async () => {
  const { parseAllDocuments } = await loadYaml();
  const { Job } = await loadKubernetesJob();
  const files = filesIn(`${DEPLOY}kubernetes/`, /\.ya?ml$/);
  assert(files.length >= 1, "no manifests in deploy/kubernetes");
  let jobs = 0;
  for (const file of files) {
    for (const doc of parseAllDocuments(await Deno.readTextFile(file))) {
      assertEquals(doc.errors.map(String), [], file);
      const object = doc.toJSON();
      if (object?.kind !== "Job") continue;
      jobs++;
      new Job(object).validate();
      const spec = object.spec;
      assertEquals(spec.completionMode, "Indexed", file);
      for (const container of spec.template.spec.containers) {
        const count = container.env?.find((e: { name: string }) => e.name === "NIFTYTS_SHARD_COUNT")?.value;
        assertEquals(count, String(spec.completions), `${file}: NIFTYTS_SHARD_COUNT must equal completions`);
        assert(container.args.includes("-c"), `${file}: the container runs a config`);
      }
    }
  }
  assert(jobs >= 1, "no Job in deploy/kubernetes");
  const broken = { apiVersion: "batch/v1", kind: "Job", spec: { completionMode: "Indexd", completions: "4" } };
  assertThrows(() => new Job(broken as never).validate(), /completionMode|completions/);
});

Deno.test("slurm scripts: bash -n, shellcheck, and infer.sbatch composes the infer command for a folder or a CSV", async () => {
  const scripts = filesIn(`${DEPLOY}slurm/`, /\.sbatch$/);
  assert(scripts.length >= 2, "no Slurm scripts");
  for (const script of scripts) {
    const syntax = await run("bash", ["-n", script]);
    assertEquals(syntax.code, 0, `${script}: ${syntax.stderr}`);
    assert((await Deno.readTextFile(script)).includes("#SBATCH"), script);
  }
  if (hasCommand("shellcheck")) {
    const lint = await run("shellcheck", ["--shell=bash", ...scripts]);
    assertEquals(lint.code, 0, lint.stdout + lint.stderr);
  } else {
    console.warn("deploy: shellcheck not installed (Debian package shellcheck; .ci/run installs it); only bash -n ran");
  }
  const task = { SLURM_ARRAY_TASK_ID: "2", SLURM_ARRAY_TASK_COUNT: "4", NIFTYTS: "echo", PATH: Deno.env.get("PATH")! };
  const folder = await run("bash", [`${DEPLOY}slurm/infer.sbatch`], {
    ...task,
    CONFIG: "/study/config.ini",
    INPUT: "/study/scans",
    OUT: "/tmp/niftyts_deploy_test_out",
  });
  assertEquals(folder.code, 0, folder.stderr);
  assert(
    folder.stdout.includes(
      "\ninfer -c /study/config.ini --T1.path_to_search /study/scans --save_seg_dir /tmp/niftyts_deploy_test_out\n",
    ),
    folder.stdout,
  );
  const csv = await run("bash", [`${DEPLOY}slurm/infer.sbatch`], {
    ...task,
    CONFIG: "c.ini",
    INPUT: "/study/paths.csv",
    SECTION: "MR",
  });
  assert(csv.stdout.endsWith("infer -c c.ini --MR.csv_file /study/paths.csv\n"), csv.stdout);
  const noConfig = await run("bash", [`${DEPLOY}slurm/infer.sbatch`], task);
  assert(noConfig.code !== 0 && noConfig.stderr.includes("set CONFIG"), noConfig.stderr);
  // With a container image, the task runs it through apptainer and passes the array variables into it.
  const bin = await Deno.makeTempDir();
  await Deno.writeTextFile(`${bin}/apptainer`, '#!/bin/sh\necho apptainer "$@"\n', { mode: 0o755 });
  await Deno.writeTextFile(`${bin}/niftyts.sif`, "");
  const { NIFTYTS: _, ...noCommand } = task;
  const container = await run("bash", [`${DEPLOY}slurm/infer.sbatch`], {
    ...noCommand,
    PATH: `${bin}:${task.PATH}`,
    SIF: `${bin}/niftyts.sif`,
    CONFIG: "/study/config.ini",
    INPUT: "/study/scans",
  });
  assertEquals(container.code, 0, container.stderr);
  assert(
    container.stdout.endsWith(
      "apptainer run --containall --env SLURM_ARRAY_TASK_ID=2,SLURM_ARRAY_TASK_COUNT=4,SLURM_ARRAY_TASK_MIN=0," +
        `SLURM_ARRAY_TASK_STEP=1 --bind /study,/study/scans ${bin}/niftyts.sif infer -c /study/config.ini ` +
        "--T1.path_to_search /study/scans\n",
    ),
    container.stdout,
  );
  await Deno.remove(bin, { recursive: true });
  const merge = await run("bash", [`${DEPLOY}slurm/merge.sbatch`], { ...task, OUT: "/o", SHARDS: "2" });
  assertEquals(merge.stdout, "merge /o/inferred_shard_0_of_2.csv /o/inferred_shard_1_of_2.csv --out /o/inferred.csv\n");
  await Deno.remove("/tmp/niftyts_deploy_test_out", { recursive: true }).catch(() => {});
});

Deno.test("Containerfile pins the Deno version CI runs, installs libdnnl2 and caches dependencies for offline runs", async () => {
  const text = await Deno.readTextFile(`${DEPLOY}Containerfile`);
  const ci = await Deno.readTextFile(`${ROOT}.ci/run`);
  const version = /deno@(\d+\.\d+\.\d+)/.exec(ci)?.[1];
  assert(version, ".ci/run names no deno version");
  assert(text.includes(`ARG DENO_VERSION=${version}`), `Containerfile must use Deno ${version}`);
  assert(/apt-get install[^\n]*libdnnl2/.test(text), "libdnnl2");
  assert(text.includes("deno cache --frozen-lockfile cli.ts"), "dependencies cached at build time");
  assert(text.includes("--cached-only"), "no downloads at run time");
  for (const [, from] of text.matchAll(/^COPY (?!--from)(\S+)/gm)) {
    const path = from.replace(/\/$/, "");
    assert((await Deno.stat(`${ROOT}${path}`).catch(() => undefined)) !== undefined, `COPY source ${path} exists`);
  }
});

Deno.test("cross-validation recipes: cv.sbatch runs cv with --folds = the array size; the cv Job runs one fold per index", async () => {
  const task = { SLURM_ARRAY_TASK_ID: "1", SLURM_ARRAY_TASK_COUNT: "5", NIFTYTS: "echo", PATH: Deno.env.get("PATH")! };
  const script = `${DEPLOY}slurm/cv.sbatch`;
  const plain = await run("bash", [script], { ...task, CONFIG: "/study/config.ini", MODEL_DIR: "/scratch/cv" });
  assertEquals(plain.code, 0, plain.stderr);
  assert(plain.stdout.endsWith("\ncv -c /study/config.ini --folds 5 --model_dir /scratch/cv\n"), plain.stdout);
  const twoPerTask = await run("bash", [script], { ...task, CONFIG: "c.ini", FOLDS: "10" });
  assert(twoPerTask.stdout.endsWith("\ncv -c c.ini --folds 10\n"), twoPerTask.stdout);
  const { SLURM_ARRAY_TASK_COUNT: _, ...noArray } = task;
  const outside = await run("bash", [script], { ...noArray, CONFIG: "c.ini" });
  assert(outside.code !== 0 && outside.stderr.includes("set FOLDS"), outside.stderr);

  const { parse } = await loadYaml();
  const job = parse(await Deno.readTextFile(`${DEPLOY}kubernetes/cv-job.yaml`));
  const args: string[] = job.spec.template.spec.containers[0].args;
  assertEquals(args[0], "cv");
  assertEquals(args[args.indexOf("--folds") + 1], String(job.spec.completions), "one fold per index");
});
