/**
 * Child process for the engine kill/signal tests: trains the fake application with the given config and overrides,
 * printing the driver's progress lines. Usage: deno run -A tests/_engine_child.ts CONFIG [--key value …]
 *
 * @module
 */
import { runAction } from "../src/engine/mod.ts";
import { FakeApplication } from "./_engine_fake_app.ts";

const [config, ...overrides] = Deno.args;
const r = await runAction("train", config, overrides, { application: new FakeApplication() });
if (r.action === "train") console.log(`done ${r.result.iteration} ${r.result.stoppedBy}`);
