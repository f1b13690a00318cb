import assert from "node:assert/strict";
import { join } from "node:path";
import {
  CheckpointError,
  decodeSafetensors,
  encodeSafetensors,
  type HostArray,
  type NamedTensor,
  type NamedTensors,
  readSafetensors,
  writeSafetensors,
} from "../src/weights/mod.ts";
import { loadFixture, referencePythonAvailable } from "./_util.ts";

function tensor(dtype: NamedTensor["dtype"], shape: number[], data: HostArray): NamedTensor {
  return { dtype, shape, data };
}

/** One tensor of every dtype, plus a scalar, zero-size tensors and float specials. */
function allDTypes(): NamedTensors {
  return new Map([
    ["net/conv_0/w", tensor("float32", [2, 1, 3], new Float32Array([1.5, -0, NaN, Infinity, -3.25e-39, 7]))],
    ["net/f64", tensor("float64", [3], new Float64Array([Math.PI, -1e300, 5e-324]))],
    ["i32", tensor("int32", [2, 2], new Int32Array([2147483647, -2147483648, 0, -1]))],
    ["i16", tensor("int16", [3], new Int16Array([32767, -32768, 12]))],
    ["i8", tensor("int8", [3], new Int8Array([127, -128, -1]))],
    ["u8", tensor("uint8", [2], new Uint8Array([0, 255]))],
    ["u16", tensor("uint16", [1, 2], new Uint16Array([65535, 1]))],
    ["flags", tensor("bool", [4], new Uint8Array([1, 0, 0, 1]))],
    ["iteration", tensor("int32", [], new Int32Array([1200]))],
    ["empty", tensor("float32", [0, 3], new Float32Array(0))],
    ["also_empty", tensor("int16", [2, 0], new Int16Array(0))],
    ["0", tensor("float64", [], new Float64Array([2]))], // integer-like name: JSON key order would put it first
  ]);
}

function bytesOf(data: HostArray): Uint8Array {
  return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
}

function assertSameTensors(actual: NamedTensors, expected: NamedTensors): void {
  assert.deepEqual([...actual.keys()], [...expected.keys()], "names in order");
  for (const [name, e] of expected) {
    const a = actual.get(name)!;
    assert.equal(a.dtype, e.dtype, `${name} dtype`);
    assert.deepEqual([...a.shape], [...e.shape], `${name} shape`);
    assert.equal(a.data.constructor, e.data.constructor, `${name} array type`);
    assert.deepEqual(bytesOf(a.data), bytesOf(e.data), `${name} bytes`);
  }
}

/** A file from a header (object or raw text), padded with spaces to 8, followed by `data`. */
function fileWith(header: unknown, data = new Uint8Array(0)): Uint8Array {
  const text = typeof header === "string" ? header : JSON.stringify(header);
  const json = new TextEncoder().encode(text);
  const n = Math.ceil(json.length / 8) * 8;
  const out = new Uint8Array(8 + n + data.length).fill(0x20, 8, 8 + n);
  new DataView(out.buffer).setBigUint64(0, BigInt(n), true);
  out.set(json, 8);
  out.set(data, 8 + n);
  return out;
}

Deno.test("safetensors round trip keeps every dtype, scalars, zero-size tensors and float specials bit-exact", () => {
  const tensors = allDTypes();
  const metadata = { niftyts_version: "0.1.0", note: "ünïcode ✓" };
  const decoded = decodeSafetensors(encodeSafetensors(tensors, { metadata }));
  assertSameTensors(decoded.tensors, tensors);
  assert.deepEqual(decoded.metadata, metadata);
});

Deno.test("safetensors layout: LE length, space-padded JSON header to 8 bytes, LE data packed in insertion order", () => {
  const bytes = encodeSafetensors(
    new Map([
      ["b", tensor("float32", [1], new Float32Array([1]))],
      ["a", tensor("int16", [2], new Int16Array([1, -2]))],
    ]),
  );
  const n = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.equal(n % 8, 0);
  const text = new TextDecoder().decode(bytes.subarray(8, 8 + n));
  assert.deepEqual(JSON.parse(text), {
    b: { dtype: "F32", shape: [1], data_offsets: [0, 4] },
    a: { dtype: "I16", shape: [2], data_offsets: [4, 8] },
  });
  assert.match(text, /^\{.*\} {0,7}$/);
  assert.deepEqual([...bytes.subarray(8 + n)], [0x00, 0x00, 0x80, 0x3f, 0x01, 0x00, 0xfe, 0xff]);
  assert.equal(bytes.length, 8 + n + 8);
});

Deno.test("safetensors without metadata writes no __metadata__ and reads back an empty one", () => {
  const bytes = encodeSafetensors(new Map([["w", tensor("uint8", [1], new Uint8Array([3]))]]));
  assert.ok(!new TextDecoder().decode(bytes).includes("__metadata__"));
  assert.deepEqual(decodeSafetensors(bytes).metadata, {});
});

Deno.test("safetensors encoder refuses mismatched data, bad shapes, bad bool bytes and non-string metadata", () => {
  const one = (t: NamedTensor) => new Map([["w", t]]);
  const cases: [() => unknown, string][] = [
    [
      () => encodeSafetensors(one(tensor("float32", [3], new Float32Array(2)))),
      "shape [3] needs 3 elements, data has 2",
    ],
    [
      () => encodeSafetensors(one(tensor("float32", [2], new Float64Array(2)))),
      "dtype float32 but data is a Float64Array",
    ],
    [() => encodeSafetensors(one(tensor("int8", [-1], new Int8Array(0)))), "shape [-1]"],
    [() => encodeSafetensors(one(tensor("bool", [1], new Uint8Array([2])))), "bool data holds values other than 0"],
    [
      () => encodeSafetensors(new Map([["__metadata__", tensor("uint8", [0], new Uint8Array(0))]])),
      'tensor named "__metadata__"',
    ],
    [
      () => encodeSafetensors(new Map(), { metadata: { iteration: 5 as unknown as string } }),
      'metadata "iteration": value is a number, expected a string',
    ],
  ];
  for (const [fn, text] of cases) assert.throws(fn, (e: Error) => e.message.includes(text) || assert.fail(e.message));
});

const F32x2 = { dtype: "F32", shape: [2], data_offsets: [0, 8] };
const refusals: { proves: string; bytes: () => Uint8Array; message: string }[] = [
  { proves: "a file shorter than 8 bytes", bytes: () => new Uint8Array(3), message: "file is 3 bytes, shorter than" },
  {
    proves: "a header length past the end",
    bytes: () => {
      const b = fileWith({ a: F32x2 }, new Uint8Array(8));
      new DataView(b.buffer).setBigUint64(0, 1000n, true);
      return b;
    },
    message: "header length 1000 runs past the end of the file",
  },
  { proves: "invalid JSON", bytes: () => fileWith('{"a": [1,'), message: "header is not valid JSON" },
  {
    proves: "a header not starting with {",
    bytes: () => fileWith("[1, 2]"),
    message: 'header does not start with "{"',
  },
  {
    proves: "a header that is not UTF-8",
    bytes: () => {
      const b = fileWith("{}      ");
      b[9] = 0xff;
      return b;
    },
    message: "header is not valid UTF-8",
  },
  {
    proves: "an unknown dtype",
    bytes: () => fileWith({ a: { ...F32x2, dtype: "F16", shape: [4] } }, new Uint8Array(8)),
    message: 'tensor "a" has unknown dtype "F16" (supported: F32, F64, I32, I16, I8, U8, U16, BOOL)',
  },
  {
    proves: "a negative shape",
    bytes: () => fileWith({ a: { ...F32x2, shape: [-2] } }, new Uint8Array(8)),
    message: 'tensor "a" has shape [-2]',
  },
  {
    proves: "reversed data_offsets",
    bytes: () => fileWith({ a: { ...F32x2, data_offsets: [8, 0] } }, new Uint8Array(8)),
    message: 'tensor "a" has data_offsets [8,0]',
  },
  {
    proves: "a byte size that is not prod(shape)·itemsize",
    bytes: () => fileWith({ a: { ...F32x2, shape: [3] } }, new Uint8Array(8)),
    message: 'tensor "a" has 8 bytes (data_offsets [0, 8]) but shape [3] of F32 needs 12',
  },
  {
    proves: "a truncated file (offsets past the end of the data)",
    bytes: () => fileWith({ a: F32x2, b: { ...F32x2, data_offsets: [8, 16] } }, new Uint8Array(12)),
    message: 'tensor "b" data_offsets [8, 16] run past the end of the data (12 bytes): file truncated',
  },
  {
    proves: "overlapping tensors",
    bytes: () => fileWith({ a: F32x2, b: { ...F32x2, data_offsets: [4, 12] } }, new Uint8Array(12)),
    message: 'tensors "a" [0, 8] and "b" [4, 12] overlap',
  },
  {
    proves: "a gap between tensors",
    bytes: () => fileWith({ a: F32x2, b: { ...F32x2, data_offsets: [12, 20] } }, new Uint8Array(20)),
    message: '4 bytes after tensor "a" are not covered by any tensor (gap before "b")',
  },
  {
    proves: "uncovered bytes at the start of the data",
    bytes: () => fileWith({ a: { ...F32x2, data_offsets: [4, 12] } }, new Uint8Array(12)),
    message: "4 bytes at the start of the data are not covered",
  },
  {
    proves: "trailing bytes after the last tensor",
    bytes: () => fileWith({ a: F32x2 }, new Uint8Array(12)),
    message: "4 trailing bytes after the last tensor",
  },
  {
    proves: "a non-string metadata value",
    bytes: () => fileWith({ __metadata__: { iteration: 5 } }),
    message: '__metadata__ value "iteration" is a number, expected a string',
  },
  {
    proves: "metadata that is not an object",
    bytes: () => fileWith({ __metadata__: "v1" }),
    message: "__metadata__ is a string, expected an object of strings",
  },
  {
    proves: "an entry that is not an object",
    bytes: () => fileWith({ a: 5 }),
    message: 'header entry "a" is a number',
  },
];

for (const { proves, bytes, message } of refusals) {
  Deno.test(`safetensors decoder refuses ${proves}, naming the file`, () => {
    assert.throws(
      () => decodeSafetensors(bytes(), { source: "bad.safetensors" }),
      (e: Error) => {
        assert.ok(e instanceof CheckpointError, `a CheckpointError, got ${e}`);
        assert.ok(e.message.startsWith('cannot read "bad.safetensors": '), e.message);
        assert.ok(e.message.includes(message), `"${e.message}" lacks "${message}"`);
        return true;
      },
    );
  });
}

Deno.test("safetensors decoder refuses a real file cut short by 3 bytes", () => {
  const bytes = encodeSafetensors(allDTypes());
  assert.throws(
    () => decodeSafetensors(bytes.subarray(0, bytes.length - 3), { source: "cut.safetensors" }),
    /cannot read "cut\.safetensors": tensor "0" data_offsets \[\d+, \d+\] run past the end of the data/,
  );
});

Deno.test("writeSafetensors then readSafetensors returns the same tensors, no temp file left, mode 0644", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "ckpt.safetensors");
    await writeSafetensors(path, allDTypes(), { metadata: { iteration: "3" } });
    const { tensors, metadata } = await readSafetensors(path);
    assertSameTensors(tensors, allDTypes());
    assert.deepEqual(metadata, { iteration: "3" });
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["ckpt.safetensors"]);
    if (Deno.build.os !== "windows") assert.equal(Deno.statSync(path).mode! & 0o777, 0o644);
    // Overwriting replaces the file whole.
    await writeSafetensors(new URL(`file://${path}`), new Map([["x", tensor("uint8", [1], new Uint8Array([9]))]]));
    assert.deepEqual([...(await readSafetensors(path)).tensors.keys()], ["x"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeSafetensors leaves the existing checkpoint untouched and no temp file when encoding fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const path = join(dir, "ckpt.safetensors");
    await writeSafetensors(path, allDTypes());
    const before = await Deno.readFile(path);
    const bad = new Map([["w", tensor("float32", [4], new Float32Array(3))]]);
    await assert.rejects(() => writeSafetensors(path, bad), /shape \[4\] needs 4 elements/);
    assert.deepEqual(await Deno.readFile(path), before);
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["ckpt.safetensors"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("writeSafetensors removes its temp file when the final rename fails", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const target = join(dir, "occupied");
    await Deno.mkdir(target);
    await Deno.writeTextFile(join(target, "keep.txt"), "x");
    await assert.rejects(() => writeSafetensors(target, allDTypes()));
    assert.deepEqual([...Deno.readDirSync(dir)].map((e) => e.name), ["occupied"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("readSafetensors names a missing file", async () => {
  await assert.rejects(
    () => readSafetensors("/nonexistent/model.safetensors"),
    { message: 'cannot read "/nonexistent/model.safetensors": file not found' },
  );
});

interface TorchWritten {
  file_base64: string;
  metadata: Record<string, string>;
  tensors: { name: string; dtype: string; shape: number[]; values: (number | boolean)[] }[];
}

Deno.test("safetensors written by PyTorch/numpy (unaligned offsets, sorted header keys) decode exactly", () => {
  const fixture = loadFixture<TorchWritten>("checkpoint_torch_written");
  const bytes = Uint8Array.from(atob(fixture.file_base64), (c) => c.charCodeAt(0));
  const { tensors, metadata } = decodeSafetensors(bytes, { source: "checkpoint_torch_written" });
  assert.deepEqual(metadata, fixture.metadata);
  assert.deepEqual([...tensors.keys()], fixture.tensors.map((t) => t.name), "data order");
  const hostName: Record<string, string> = {
    F32: "float32",
    F64: "float64",
    I32: "int32",
    I16: "int16",
    I8: "int8",
    U8: "uint8",
    U16: "uint16",
    BOOL: "bool",
  };
  for (const e of fixture.tensors) {
    const t = tensors.get(e.name)!;
    assert.equal(t.dtype, hostName[e.dtype], e.name);
    assert.deepEqual([...t.shape], e.shape, e.name);
    // Exact: every value in the fixture is exactly representable in its dtype.
    assert.deepEqual([...t.data], e.values.map(Number), e.name);
  }
  // And our encoder reproduces PyTorch's file content (same tensors, same metadata) losslessly.
  assertSameTensors(decodeSafetensors(encodeSafetensors(tensors, { metadata })).tensors, tensors);
});

const numpyAvailable = referencePythonAvailable(["numpy"]);
if (!numpyAvailable) console.warn("safetensors interop: /usr/bin/python3 with numpy missing; Python check skipped");

Deno.test({
  name: "safetensors written by NiftyTS parse with an independent Python reader: same names, shapes, dtypes, sums",
  ignore: !numpyAvailable,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const path = join(dir, "ours.safetensors");
      const tensors = allDTypes();
      // Finite sums of squares for the comparison.
      tensors.get("net/conv_0/w")!.data.set([1.5, -0, 2, 4, -3.25e-39, 7]);
      tensors.get("net/f64")!.data.set([Math.PI, -1e100, 5e-324]);
      const metadata = { niftyts_version: "0.1.0", config: '{"lr":0.001}' };
      await writeSafetensors(path, tensors, { metadata });
      const checker = new URL("./reference/checkers/checkpoint_safetensors_check.py", import.meta.url).pathname;
      const { code, stdout, stderr } = await new Deno.Command("/usr/bin/python3", { args: [checker, path] }).output();
      assert.equal(code, 0, new TextDecoder().decode(stderr));
      const report = JSON.parse(new TextDecoder().decode(stdout));
      assert.deepEqual(report.metadata, metadata);
      const byName = new Map<string, { dtype: string; shape: number[]; sum: number; sum_sq: number }>(
        report.tensors.map((t: { name: string }) => [t.name, t]),
      );
      assert.deepEqual([...byName.keys()], [...tensors.keys()], "python sees our data order");
      for (const [name, t] of tensors) {
        const p = byName.get(name)!;
        assert.deepEqual(p.shape, [...t.shape], name);
        let sum = 0, sumSq = 0;
        for (const v of t.data) {
          sum += v;
          sumSq += v * v;
        }
        assert.ok(Math.abs(p.sum - sum) <= 1e-12 * Math.max(1, Math.abs(sum)), `${name} sum ${p.sum} vs ${sum}`);
        assert.ok(Math.abs(p.sum_sq - sumSq) <= 1e-12 * Math.max(1, sumSq), `${name} sum_sq ${p.sum_sq} vs ${sumSq}`);
      }
      assert.equal(byName.get("flags")!.dtype, "BOOL");
      assert.equal(byName.get("u16")!.dtype, "U16");
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
