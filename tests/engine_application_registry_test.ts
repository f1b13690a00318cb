/**
 * The application registry of the engine: the applications register themselves (name, section, aliases — the one
 * alias table), the driver and the CLI find them there.
 */
import { deepStrictEqual as assertEquals, throws as assertThrows } from "node:assert/strict";
import "../src/applications/mod.ts";
import { applicationNames, getApplication, registeredApplications } from "../src/engine/application.ts";
import { applicationCommands } from "../src/commands/run_action.ts";

Deno.test("NiftyNet's command names and the short CLI names resolve to the registered applications", () => {
  for (
    const [alias, name] of [
      ["net_segment", "segmentation"],
      ["segment", "segmentation"],
      ["NET_REGRESS", "regression"],
      ["classify", "classification"],
      ["net_autoencoder", "autoencoder"],
      ["net_gan", "gan"],
      ["GAN", "gan"],
    ]
  ) {
    assertEquals(getApplication(alias).name, name, alias);
  }
});

Deno.test("an unknown application name fails with one line suggesting the closest registered name", () => {
  assertThrows(() => getApplication("segmentaton"), /unknown application "segmentaton"; did you mean "segmentation"\?/);
});

Deno.test("the built-in applications register themselves in the order of docs/CONFIG.md's columns", () => {
  assertEquals(registeredApplications().map((a) => a.name).slice(0, 5), [
    "segmentation",
    "regression",
    "classification",
    "autoencoder",
    "gan",
  ]);
  assertEquals(applicationNames().includes("gan"), true);
});

Deno.test("the CLI offers a command for every application name and alias, from the registry", () => {
  const commands = applicationCommands();
  for (
    const [command, name] of [
      ["segment", "segmentation"],
      ["net_segment", "segmentation"],
      ["regress", "regression"],
      ["classify", "classification"],
      ["autoencoder", "autoencoder"],
      ["gan", "gan"],
      ["net_gan", "gan"],
    ]
  ) {
    assertEquals(commands.get(command), name, command);
  }
});
