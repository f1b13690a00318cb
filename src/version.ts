/** The NiftyTS version written into checkpoints and printed by the CLI. */
export const VERSION = "0.1.0";
