import { deepEqual as assertEquals } from "node:assert/strict";
import { crc32c, frameRecord, maskedCrc32c } from "../src/viz/mod.ts";

const hex = (s: string) => new Uint8Array(s.match(/[0-9a-f]{2}/g)!.map((b) => parseInt(b, 16)));

Deno.test("crc32c matches the RFC 3720 B.4 test vectors and the 123456789 check value", () => {
  assertEquals(crc32c(new Uint8Array(32)), 0x8a9136aa);
  assertEquals(crc32c(new Uint8Array(32).fill(0xff)), 0x62a8ab43);
  assertEquals(crc32c(Uint8Array.from({ length: 32 }, (_, i) => i)), 0x46dd794e);
  assertEquals(crc32c(Uint8Array.from({ length: 32 }, (_, i) => 31 - i)), 0x113fdb5c);
  // iSCSI read command PDU from RFC 3720 B.4.
  const pdu = hex(
    "01c00000 00000000 00000000 00000000 14000000 00000400 00000014 00000018" +
      "28000000 00000000 02000000 00000000",
  );
  assertEquals(pdu.length, 48);
  assertEquals(crc32c(pdu), 0xd9963a56);
  assertEquals(crc32c(new TextEncoder().encode("123456789")), 0xe3069283);
});

Deno.test("maskedCrc32c rotates right by 15 and adds 0xa282ead8 (values from an independent Python bitwise CRC)", () => {
  assertEquals(maskedCrc32c(new Uint8Array(32)), 0x0fd7fffa);
  assertEquals(maskedCrc32c(new Uint8Array(32).fill(0xff)), 0xf909b029);
  assertEquals(maskedCrc32c(new TextEncoder().encode("123456789")), 0xc78ab0e5);
  assertEquals(maskedCrc32c(new Uint8Array(8)), 0x07980329);
});

Deno.test("frameRecord lays out length, masked length CRC, data, masked data CRC little-endian", () => {
  const data = new TextEncoder().encode("123456789");
  const framed = frameRecord(data);
  assertEquals(framed.length, 8 + 4 + 9 + 4);
  const view = new DataView(framed.buffer);
  assertEquals(view.getBigUint64(0, true), 9n);
  assertEquals(view.getUint32(8, true), maskedCrc32c(framed.subarray(0, 8)));
  assertEquals(framed.subarray(12, 21), data);
  assertEquals(view.getUint32(21, true), 0xc78ab0e5);
  // An empty record: the length CRC is the masked CRC of eight zero bytes.
  assertEquals(
    [...frameRecord(new Uint8Array(0))],
    [0, 0, 0, 0, 0, 0, 0, 0, 0x29, 0x03, 0x98, 0x07, 0xd8, 0xea, 0x82, 0xa2],
  );
});
