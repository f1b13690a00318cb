import { deepEqual as assertEquals, equal, match, ok, rejects, throws } from "node:assert/strict";
import {
  DT_FLOAT,
  encodeEvent,
  encodeNodeDef,
  EventWriter,
  graphDef,
  imageFromValues,
  nodeDefs,
} from "../src/viz/mod.ts";
import { toyNet } from "./_viz_samples.ts";
import { checkerAvailable, checkEventFile } from "./_viz_check.ts";

const bytes = (...parts: (number | string)[]) =>
  Uint8Array.from(parts.flatMap((p) => typeof p === "string" ? [...new TextEncoder().encode(p)] : [p]));

Deno.test("encodeNodeDef of a Placeholder equals hand-computed protobuf bytes", () => {
  const got = encodeNodeDef({ name: "x", op: "Placeholder", inputs: [], attrs: { dtype: { type: DT_FLOAT } } });
  // name(1) "x", op(2) "Placeholder", attr(5) entry { key(1) "dtype", value(2) AttrValue { type(6) = 1 } }
  assertEquals(got, bytes(0x0a, 1, "x", 0x12, 11, "Placeholder", 0x2a, 11, 0x0a, 5, "dtype", 0x12, 2, 0x30, 1));
});

Deno.test("encodeNodeDef writes inputs, sorted attrs, string attrs and a shape list with an unknown (-1) dim", () => {
  const got = encodeNodeDef({
    name: "y",
    op: "Relu",
    inputs: ["x"],
    attrs: { _output_shapes: { shapeList: [[2, -1]] }, T: { s: "f" } },
  });
  const minusOne = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01]; // int64 −1 as a 10-byte varint
  const shape = [0x12, 2, 0x08, 2, 0x12, 11, 0x08, ...minusOne]; // dim(2){size(1)=2}, dim(2){size(1)=−1}
  const name = [0x0a, 1, "y", 0x12, 4, "Relu", 0x1a, 1, "x"]; // name(1), op(2), input(3)
  const attrT = [0x2a, 8, 0x0a, 1, "T", 0x12, 3, 0x12, 1, "f"]; // "T" sorts before "_output_shapes"
  const attrShapes = [0x2a, 39, 0x0a, 14, "_output_shapes", 0x12, 21, 0x0a, 19, 0x3a, 17, ...shape]; // list(1){shape(7)}
  const expected = bytes(...name, ...attrT, ...attrShapes);
  assertEquals(got, expected);
});

Deno.test("encodeEvent of a scalar and of file_version equal hand-computed protobuf bytes", () => {
  const wall1 = [0x09, 0, 0, 0, 0, 0, 0, 0xf0, 0x3f]; // wall_time(1) = 1.0 as little-endian double
  assertEquals(
    encodeEvent({ kind: "scalar", tag: "a", value: 0.5 }, { wallTime: 1, step: 3 }),
    // step(2) = 3, summary(5) { value(1) { tag(1) "a", simple_value(2) = 0.5f } }
    bytes(...wall1, 0x10, 3, 0x2a, 10, 0x0a, 8, 0x0a, 1, "a", 0x15, 0, 0, 0, 0x3f),
  );
  assertEquals(
    encodeEvent({ kind: "fileVersion", version: "brain.Event:2" }, { wallTime: 1 }),
    bytes(...wall1, 0x1a, 13, "brain.Event:2"),
  );
  throws(() => encodeEvent({ kind: "scalar", tag: "a", value: 1 }, { wallTime: 1, step: -1 }), /step must be/);
});

Deno.test("nodeDefs: placeholders, VariableV2 per variable, one node per op with producer inputs and shapes", () => {
  const nodes = nodeDefs(toyNet());
  const byName = new Map(nodes.map((n) => [n.name, n]));
  equal(nodes.length, 1 + 13 + 19); // 1 input, 13 variables, 19 ops
  assertEquals(byName.get("input")!.attrs.shape, { shape: [1, 8, 8, 1] });
  const w = byName.get("ToyNet/res_1/conv_a/conv_/w")!;
  equal(w.op, "VariableV2");
  assertEquals(w.attrs._output_shapes, { shapeList: [[3, 3, 4, 4]] });
  assertEquals(byName.get("ToyNet/res_1/conv_a/bn_/moving_mean")!.attrs.trainable, { b: false });
  const shared = byName.get("ToyNet/shared/Conv2D_1")!;
  equal(shared.op, "Conv2D");
  assertEquals(shared.inputs, ["ToyNet/shared/Conv2D", "ToyNet/shared/w"]);
  const conv = byName.get("ToyNet/conv_0/Conv2D")!;
  assertEquals(conv.attrs, {
    pad: { s: "same" },
    strides: { s: "1,1" },
    _output_shapes: { shapeList: [[1, 8, 8, 4]] },
  });
});

Deno.test("nodeDefs rejects an op input that names no node, and duplicate node names", () => {
  const g = toyNet();
  const bad = { ...g, inputs: [{ name: "image", shape: [1, 8, 8, 1] }] };
  throws(() => nodeDefs(bad), /graph "ToyNet": op "ToyNet\/conv_0\/Conv2D" input "input" names no op/);
  const dup = { ...g, inputs: [...g.inputs, { name: "input", shape: [1] }] };
  throws(() => nodeDefs(dup), /two nodes are named "input"/);
});

Deno.test("imageFromValues maps min→0 and max→255 linearly, clips, and sends NaN to 0", () => {
  const img = imageFromValues(new Float32Array([0, 0.5, 1, 2, NaN, -1]), { height: 2, width: 3, min: 0, max: 1 });
  assertEquals([...img.data], [0, 128, 255, 255, 0, 0]);
  assertEquals([...imageFromValues([2, 4, 6, 8], { height: 2, width: 2 }).data], [0, 85, 170, 255]);
  throws(() => imageFromValues([1, 2, 3], { height: 2, width: 2 }), /2x2 needs 4 values, got 3/);
});

Deno.test("EventWriter names the file events.out.tfevents.<secs>.<host>, never reuses one, and refuses use after close", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const now = () => 1_700_000_000_250;
    const a = await EventWriter.open(`${dir}/logs/train`, { hostname: "testhost", now });
    const b = await EventWriter.open(`${dir}/logs/train`, { hostname: "testhost", now });
    equal(a.path, `${dir}/logs/train/events.out.tfevents.1700000000.testhost`);
    equal(b.path, `${a.path}.1`);
    const sizeAfterOpen = (await Deno.stat(a.path)).size;
    a.scalar("loss", 1, 1);
    equal((await Deno.stat(a.path)).size, sizeAfterOpen, "events stay buffered until flush");
    await a.flush();
    ok((await Deno.stat(a.path)).size > sizeAfterOpen);
    throws(
      () => a.image("img", { data: new Uint8Array(5), height: 2, width: 3 }, 1),
      /image "img": 2x3x1 needs 6 bytes, got 5/,
    );
    throws(() => a.scalar("", 1, 1), /non-empty string/);
    await a.close();
    await b.close();
    throws(() => a.scalar("loss", 1, 2), /is closed/);
    await rejects(EventWriter.open(`${a.path}/sub`, { hostname: "h" }), /.+/);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test({
  name: "event file written by EventWriter decodes with the independent Python checker: CRCs, scalars, PNGs, GraphDef",
  ignore: !checkerAvailable,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const graph = toyNet();
      let clock = 1_700_000_000_500;
      const writer = await EventWriter.open(dir, { hostname: "testhost", now: () => clock });
      writer.graph(graphDef(graph));
      writer.scalar("loss", 0.25, 1);
      clock += 1000;
      writer.scalar("loss", 1 / 3, 2);
      const gray = Uint8Array.from({ length: 6 }, (_, i) => i * 50);
      writer.image("slice/gray", { data: gray, height: 2, width: 3 }, 2);
      const rgb = Uint8Array.from({ length: 12 }, (_, i) => 255 - i * 20);
      writer.image("slice/rgb", { data: rgb, height: 2, width: 2, channels: 3 }, 7);
      await writer.close();

      const checked = await checkEventFile(writer.path);
      equal(checked.records, 6);
      const [version, graphEvent, s1, s2, g, c] = checked.events;
      equal(version.file_version, "brain.Event:2");
      equal(version.wall_time, 1_700_000_000.5);
      assertEquals(graphEvent.graph_def!.nodes, JSON.parse(JSON.stringify(nodeDefs(graph))));
      assertEquals([s1.step, s1.summary], [1, [{ tag: "loss", simple_value: 0.25 }]]);
      assertEquals([s2.step, s2.wall_time, s2.summary], [2, 1_700_000_001.5, [{
        tag: "loss",
        simple_value: Math.fround(1 / 3),
      }]]);
      const gi = g.summary![0].image!, ci = c.summary![0].image!;
      assertEquals([g.summary![0].tag, gi.height, gi.width, gi.colorspace, gi.png_signature_ok], [
        "slice/gray",
        2,
        3,
        1,
        true,
      ]);
      assertEquals([c.step, ci.height, ci.width, ci.colorspace, ci.png_signature_ok], [7, 2, 2, 3, true]);
      if (gi.decoded && ci.decoded) {
        assertEquals(gi.decoded, { mode: "L", size: [3, 2], pixels: [...gray] });
        assertEquals(ci.decoded, { mode: "RGB", size: [2, 2], pixels: [...rgb] });
      } else console.warn("PNG pixels not compared: Pillow (python3-pil) is missing");
      match(checked.crc_checked_by, /bitwise/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "Python checker rejects an event file with one flipped data byte (CRC check is live)",
  ignore: !checkerAvailable,
  fn: async () => {
    const dir = await Deno.makeTempDir();
    try {
      const writer = await EventWriter.open(dir, { hostname: "h", now: () => 1e12 });
      writer.scalar("loss", 0.5, 1);
      await writer.close();
      const data = await Deno.readFile(writer.path);
      data[data.length - 6] ^= 0x01; // inside the scalar value of the last record
      await Deno.writeFile(writer.path, data);
      await rejects(checkEventFile(writer.path), /bad data CRC/);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
});
