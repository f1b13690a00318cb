/**
 * The slice of oneDNN's C API (v2.6, Debian `libdnnl2`: the library Debian's PyTorch takes its CPU convolutions
 * from) that the fast convolution kernels use, opened through Deno FFI. Constants are the values of
 * `dnnl_types.h` 2.6; struct sizes are rounded up, since oneDNN only writes into the buffers we pass.
 *
 * @module
 */

/** Default shared-object name: Debian's `libdnnl2` package installs it in the linker path. */
export const DNNL_LIBRARY = "libdnnl.so.2";

/** Bytes reserved per `dnnl_memory_desc_t` (696 in 2.6). */
export const MEMORY_DESC_BYTES = 1024;
/** Bytes reserved per `dnnl_convolution_desc_t` (5976 in 2.6). */
export const CONV_DESC_BYTES = 8192;

/** `dnnl_types.h` enumerators and argument indices used here. */
export const DNNL = {
  success: 0,
  cpu: 1,
  f32: 3,
  formatAny: 1,
  /** plain channels-last activations */
  nhwc: 20,
  ndhwc: 21,
  /** plain channels-first activations */
  nchw: 5,
  ncdhw: 7,
  /** tfjs filter layouts `[k…, in, out]` */
  hwio: 30,
  dhwio: 32,
  /** filters stored `[in, k…, out]` */
  ihwo: 27,
  idhwo: 28,
  forwardTraining: 64,
  forwardInference: 96,
  /** plain 1-D (bias) */
  a: 2,
  backwardData: 160,
  backwardWeights: 192,
  convolutionDirect: 1,
  argSrc: 1,
  argDst: 17,
  argBias: 41,
  argWeights: 33,
  argDiffSrc: 129,
  argDiffDst: 145,
  argDiffWeights: 161,
  queryImplInfoStr: 8,
  querySrcMd: 129,
  queryDiffSrcMd: 130,
  queryWeightsMd: 131,
  queryDiffWeightsMd: 132,
  queryDstMd: 133,
  queryDiffDstMd: 134,
} as const;

/** `dnnl_alg_kind_t` element-wise algorithms (oneDNN 2.6) that convolution post-ops apply. */
export const DNNL_ELTWISE = {
  relu: 0x1f,
  tanh: 0x2f,
  elu: 0x3f,
  linear: 0x7f,
  boundedRelu: 0x8f,
  logistic: 0xaf,
  geluTanh: 0xcf,
  geluErf: 0x30,
} as const;

/** `sizeof(dnnl_memory_desc_t)` in 2.6, exactly: arrays of descriptors (concatenation sources) are laid out by it. */
export const MEMORY_DESC_STRUCT_BYTES = 696;
/** Bytes reserved per pooling or resampling descriptor (under 4 KiB in 2.6). */
export const LAYER_DESC_BYTES = 8192;

/** `dnnl_alg_kind_t` pooling and resampling algorithms (oneDNN 2.6). */
export const DNNL_LAYER_ALG = {
  poolingMax: 0x1ff,
  poolingAvgExcludePadding: 0x3ff,
  resamplingNearest: 0x2fff0,
  resamplingLinear: 0x2fff1,
} as const;

/** `dnnl_types.h` 2.6 values for batch normalization (dnnl_batch_norm.ts). */
export const DNNL_BNORM = {
  backward: 128,
  useGlobalStats: 0x1,
  useScale: 0x8,
  useShift: 0x10,
  fuseNormRelu: 0x4,
  argWorkspace: 64,
  queryWorkspaceMd: 135,
  argMean: 49,
  argVariance: 50,
  argScale: 51,
  argShift: 52,
  argDiffScale: 255,
  argDiffShift: 256,
} as const;

/** `dnnl_alg_kind_t` binary algorithms (oneDNN 2.6); the second source is `DNNL_ARG_SRC_1` = 2. */
export const DNNL_BINARY = {
  add: 0x1fff0,
  mul: 0x1fff1,
  div: 0x1fff4,
  sub: 0x1fff5,
  argSrc1: 2,
} as const;

const SYMBOLS = {
  dnnl_engine_create: { parameters: ["buffer", "i32", "usize"], result: "i32" },
  dnnl_stream_create: { parameters: ["buffer", "pointer", "u32"], result: "i32" },
  dnnl_memory_desc_init_by_tag: { parameters: ["buffer", "i32", "buffer", "i32", "i32"], result: "i32" },
  // element-wise passes (dnnl_passes.ts): strided copies (reorders) and binary arithmetic
  dnnl_memory_desc_init_by_strides: { parameters: ["buffer", "i32", "buffer", "i32", "buffer"], result: "i32" },
  dnnl_binary_desc_init: { parameters: ["buffer", "i32", "buffer", "buffer", "buffer"], result: "i32" },
  dnnl_memory_desc_equal: { parameters: ["pointer", "pointer"], result: "i32" },
  dnnl_memory_desc_get_size: { parameters: ["pointer"], result: "usize" },
  dnnl_dilated_convolution_forward_desc_init: {
    parameters: [
      "buffer",
      "i32",
      "i32",
      "buffer",
      "buffer",
      "pointer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
      "buffer",
    ],
    result: "i32",
  },
  dnnl_dilated_convolution_backward_data_desc_init: {
    parameters: ["buffer", "i32", "buffer", "buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  dnnl_dilated_convolution_backward_weights_desc_init: {
    parameters: ["buffer", "i32", "buffer", "buffer", "pointer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  dnnl_primitive_desc_create: { parameters: ["buffer", "buffer", "pointer", "pointer", "pointer"], result: "i32" },
  dnnl_reorder_primitive_desc_create: {
    parameters: ["buffer", "pointer", "pointer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  dnnl_primitive_desc_query_md: { parameters: ["pointer", "i32", "i32"], result: "pointer" },
  dnnl_primitive_desc_query: { parameters: ["pointer", "i32", "i32", "buffer"], result: "i32" },
  dnnl_primitive_desc_destroy: { parameters: ["pointer"], result: "i32" },
  dnnl_primitive_create: { parameters: ["buffer", "pointer"], result: "i32" },
  dnnl_primitive_destroy: { parameters: ["pointer"], result: "i32" },
  dnnl_memory_create: { parameters: ["buffer", "pointer", "pointer", "pointer"], result: "i32" },
  dnnl_memory_set_data_handle: { parameters: ["pointer", "pointer"], result: "i32" },
  dnnl_memory_destroy: { parameters: ["pointer"], result: "i32" },
  dnnl_primitive_execute: { parameters: ["pointer", "pointer", "i32", "buffer"], result: "i32" },
  dnnl_stream_wait: { parameters: ["pointer"], result: "i32" },
  dnnl_post_ops_create: { parameters: ["buffer"], result: "i32" },
  dnnl_post_ops_append_eltwise: { parameters: ["pointer", "f32", "i32", "f32", "f32"], result: "i32" },
  dnnl_post_ops_append_sum: { parameters: ["pointer", "f32"], result: "i32" },
  dnnl_post_ops_destroy: { parameters: ["pointer"], result: "i32" },
  dnnl_primitive_attr_create: { parameters: ["buffer"], result: "i32" },
  dnnl_primitive_attr_set_post_ops: { parameters: ["pointer", "pointer"], result: "i32" },
  dnnl_primitive_attr_destroy: { parameters: ["pointer"], result: "i32" },
  // inference layers (dnnl_layers.ts): pooling, resampling, concatenation
  dnnl_pooling_forward_desc_init: {
    parameters: ["buffer", "i32", "i32", "buffer", "buffer", "buffer", "buffer", "buffer", "buffer"],
    result: "i32",
  },
  dnnl_resampling_forward_desc_init: {
    parameters: ["buffer", "i32", "i32", "pointer", "buffer", "buffer"],
    result: "i32",
  },
  dnnl_concat_primitive_desc_create: {
    parameters: ["buffer", "buffer", "i32", "i32", "buffer", "pointer", "pointer"],
    result: "i32",
  },
  dnnl_primitive_desc_iterator_create: {
    parameters: ["buffer", "buffer", "pointer", "pointer", "pointer"],
    result: "i32",
  },
  dnnl_primitive_desc_iterator_next: { parameters: ["pointer"], result: "i32" },
  dnnl_primitive_desc_iterator_fetch: { parameters: ["pointer"], result: "pointer" },
  dnnl_primitive_desc_iterator_destroy: { parameters: ["pointer"], result: "i32" },
  // training batch norm and the prelu after it (dnnl_batch_norm.ts)
  dnnl_batch_normalization_forward_desc_init: { parameters: ["buffer", "i32", "buffer", "f32", "u32"], result: "i32" },
  dnnl_batch_normalization_backward_desc_init: {
    parameters: ["buffer", "i32", "buffer", "buffer", "f32", "u32"],
    result: "i32",
  },
  dnnl_prelu_forward_desc_init: { parameters: ["buffer", "i32", "buffer", "buffer"], result: "i32" },
  dnnl_prelu_backward_desc_init: { parameters: ["buffer", "buffer", "buffer", "buffer", "buffer"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/** The opened library's functions. */
export type DnnlSymbols = Deno.DynamicLibrary<typeof SYMBOLS>["symbols"];

/** An opened oneDNN with its CPU engine and stream. */
export interface Dnnl {
  readonly fn: DnnlSymbols;
  readonly engine: Deno.PointerValue;
  readonly stream: Deno.PointerValue;
}

/** Reads the pointer a C function wrote into an 8-byte out-parameter. */
export function outPointer(cell: BigUint64Array): Deno.PointerValue {
  return Deno.UnsafePointer.create(cell[0]);
}

/** Throws a clear error when a oneDNN call did not succeed. */
export function check(status: number, what: string): void {
  if (status !== DNNL.success) throw new Error(`oneDNN ${what} failed with status ${status}`);
}

/**
 * How long (in spins) an OpenMP thread of Debian's oneDNN (built on libgomp) busy-waits for more work before it
 * sleeps, unless the user set `GOMP_SPINCOUNT` or `OMP_WAIT_POLICY`. libgomp's default (300000 spins, ~10 ms) is
 * ruinous when another process holds a core: the waiting thread spins on the core its partner needs, and every
 * parallel region then lasts a scheduler slice (measured with the 2 cores loaded: 64³ Add 12 ms → 2 ms, 64
 * phase-gather reorders 390 ms → 18 ms). 1000 spins is about as short as sleeping at once, idle or loaded.
 */
export const GOMP_SPINS = "1000";

/** Sets {@link GOMP_SPINS} before libgomp starts (it reads the environment once, when first loaded). */
function shortOpenMpSpin(): void {
  try {
    if (Deno.env.get("GOMP_SPINCOUNT") === undefined && Deno.env.get("OMP_WAIT_POLICY") === undefined) {
      Deno.env.set("GOMP_SPINCOUNT", GOMP_SPINS);
    }
  } catch {
    // no --allow-env: libgomp keeps its default
  }
}

/**
 * Opens oneDNN and creates one CPU engine and stream; throws when the library or a symbol is missing or the engine
 * cannot start.
 */
export function openDnnl(path: string = DNNL_LIBRARY): Dnnl {
  shortOpenMpSpin();
  const lib = Deno.dlopen(path, SYMBOLS);
  const cell = new BigUint64Array(1);
  check(lib.symbols.dnnl_engine_create(cell, DNNL.cpu, 0n), "engine_create");
  const engine = outPointer(cell);
  check(lib.symbols.dnnl_stream_create(cell, engine, 1), "stream_create");
  return { fn: lib.symbols, engine, stream: outPointer(cell) };
}
