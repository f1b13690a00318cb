import assert from "node:assert/strict";
import {
  CheckpointError,
  checkpointMetadata,
  decodeSafetensors,
  encodeSafetensors,
  parseCheckpointMetadata,
} from "../src/weights/mod.ts";
import { VERSION } from "../src/version.ts";

Deno.test("checkpoint metadata stores version, iteration, network and config as strings and reads them back", () => {
  const config = { NETWORK: { name: "highres3dnet", batch_size: 2 }, TRAINING: { lr: 0.001, loss_type: "Dice" } };
  const metadata = checkpointMetadata({ iteration: 1200, network: "highres3dnet", config, extra: { note: "x" } });
  assert.deepEqual(metadata, {
    niftyts_version: VERSION,
    iteration: "1200",
    network: "highres3dnet",
    config: JSON.stringify(config),
    note: "x",
  });
  // Through an actual file, as the safetensors header only carries strings.
  const file = encodeSafetensors(new Map(), { metadata });
  const info = parseCheckpointMetadata(decodeSafetensors(file).metadata);
  assert.deepEqual(info, {
    niftytsVersion: VERSION,
    iteration: 1200,
    network: "highres3dnet",
    config,
    extra: { note: "x" },
  });
});

Deno.test("checkpoint metadata of a foreign file parses with every field undefined and keeps its entries as extra", () => {
  assert.deepEqual(parseCheckpointMetadata({ format: "pt" }), {
    niftytsVersion: undefined,
    iteration: undefined,
    network: undefined,
    config: undefined,
    extra: { format: "pt" },
  });
});

Deno.test("checkpoint metadata refuses a non-integer iteration and config that is not JSON, naming the file", () => {
  assert.throws(
    () => parseCheckpointMetadata({ iteration: "12.5" }, { source: "a.safetensors" }),
    (e: Error) =>
      e instanceof CheckpointError &&
      e.message === 'cannot read "a.safetensors": metadata iteration "12.5" is not an integer',
  );
  assert.throws(
    () => parseCheckpointMetadata({ config: "{lr: 1}" }, { source: "a.safetensors" }),
    /cannot read "a\.safetensors": metadata config is not valid JSON/,
  );
});

Deno.test("checkpoint metadata builder refuses a negative iteration and extra keys that shadow structured fields", () => {
  assert.throws(() => checkpointMetadata({ iteration: -1 }), /iteration must be a non-negative integer, got -1/);
  assert.throws(() => checkpointMetadata({ extra: { config: "{}" } }), /extra key "config" clashes/);
});
