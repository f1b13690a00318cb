import { deepStrictEqual as assertEquals, ok as assert } from "node:assert/strict";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import {
  checkpointConfigPath,
  checkpointFolder,
  configFromJson,
  latestCheckpoint,
  listCheckpoints,
  readTrainingCheckpoint,
  runAction,
} from "../src/engine/mod.ts";
import { FakeApplication, fakeConfigText } from "./_engine_fake_app.ts";

const CHILD = fileURLToPath(new URL("./_engine_child.ts", import.meta.url));

/** Starts the child trainer; `until(line)` decides when to send `signal`. Returns stdout lines and the status. */
async function runChild(
  config: string,
  overrides: string[],
  { until, signal }: { until?: (line: string) => boolean; signal?: Deno.Signal } = {},
): Promise<{ lines: string[]; status: Deno.CommandStatus }> {
  const child = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", CHILD, config, ...overrides],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  const lines: string[] = [];
  let sent = false, buffer = "";
  let watchdog: ReturnType<typeof setTimeout> | undefined;
  const stderr = new Response(child.stderr).text();
  for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) {
    buffer += chunk;
    const parts = buffer.split("\n");
    buffer = parts.pop()!;
    for (const line of parts) {
      lines.push(line);
      if (!sent && until && signal && until(line)) {
        child.kill(signal);
        sent = true;
        // Never leave a runaway trainer behind if the signal is not honoured.
        watchdog = setTimeout(() => child.kill("SIGKILL"), 60_000);
      }
    }
  }
  const status = await child.status;
  clearTimeout(watchdog);
  const err = await stderr;
  if (!sent && !status.success) throw new Error(`child failed (${status.code}): ${err}`);
  return { lines, status };
}

/** Every checkpoint and config on disk reads back; returns the listed iterations. */
async function assertAllReadable(modelDir: string): Promise<number[]> {
  const iterations = await listCheckpoints(modelDir);
  for (const it of iterations) {
    const c = await readTrainingCheckpoint(modelDir, it);
    assert(c.tensors.size > 0 && c.state !== undefined, `checkpoint ${it}`);
    configFromJson(JSON.parse(await Deno.readTextFile(checkpointConfigPath(modelDir, it))));
  }
  for (const e of Deno.readDirSync(checkpointFolder(modelDir))) {
    // Only complete checkpoints and their configs under final names; a kill during a write leaves at most a hidden
    // temp file, never a truncated checkpoint.
    assert(/^model\.ckpt-\d+\.(safetensors|config\.json)$/.test(e.name) || /^\..*\.tmp$/.test(e.name), e.name);
  }
  return iterations;
}

Deno.test("a run killed with SIGKILL at a random iteration and restarted with starting_iter=-1 ends with the uninterrupted weights", async () => {
  const dir = await Deno.makeTempDir();
  const settings = { max_iter: 12, save_every_n: 2, validation_every_n: 3, lr_schedule: "poly" };
  for (const run of ["whole", "killed"]) {
    await Deno.mkdir(join(dir, run));
    await Deno.writeTextFile(join(dir, run, "config.ini"), fakeConfigText(join(dir, run, "model"), settings));
  }
  const whole = await runAction("train", join(dir, "whole", "config.ini"), [], {
    application: new FakeApplication(),
    log: () => {},
    handleSignals: false,
  });
  const killAt = 3 + Math.floor(Math.random() * 7);
  const config = join(dir, "killed", "config.ini"), model = join(dir, "killed", "model");
  const first = await runChild(config, [], { until: (l) => l.startsWith(`iter ${killAt}/`), signal: "SIGKILL" });
  assertEquals(first.status.signal, "SIGKILL");
  const survived = await assertAllReadable(model);
  // The kill lands a moment after "iter K" is printed: the run is cut short, whatever it saved meanwhile.
  assert((survived.at(-1) ?? 0) < 12 && !first.lines.some((l) => l.startsWith("done")), `killed at ${killAt}`);
  const second = await runChild(config, ["--starting_iter", "-1"]);
  assert(second.lines.includes("done 12 max_iter"), second.lines.join("\n"));
  assertEquals(await latestCheckpoint(model), 12);
  await assertAllReadable(model);
  const final = await readTrainingCheckpoint(model, 12);
  const expected = whole.action === "train" ? whole.result.weights : new Map();
  let worst = 0;
  for (const [name, t] of expected) {
    const got = final.tensors.get(name)!.data;
    t.data.forEach((v: number, i: number) => worst = Math.max(worst, Math.abs(v - Number(got[i]))));
  }
  assert(worst <= 1e-6, `killed at iteration ${killAt}: max weight difference ${worst}`);
  await Deno.remove(dir, { recursive: true });
});

Deno.test("SIGTERM during training writes a checkpoint of the current iteration before the process exits", async () => {
  const dir = await Deno.makeTempDir();
  const config = join(dir, "config.ini"), model = join(dir, "model");
  await Deno.writeTextFile(
    config,
    fakeConfigText(model, { max_iter: 100000, save_every_n: 0, tensorboard_every_n: 0 }),
  );
  const { lines, status } = await runChild(config, [], { until: (l) => l.startsWith("iter 3/"), signal: "SIGTERM" });
  assert(status.success, `exit code ${status.code}`);
  assert(lines.some((l) => l.includes("SIGTERM received")), lines.join("\n"));
  const done = lines.find((l) => l.startsWith("done "))!;
  const [, iteration, reason] = done.split(" ");
  assertEquals(reason, "signal");
  assert(Number(iteration) >= 3 && Number(iteration) < 100000);
  assertEquals(await assertAllReadable(model), [Number(iteration)]);
  await Deno.remove(dir, { recursive: true });
});
