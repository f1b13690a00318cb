"""Independent checker for TensorBoard event files written by src/viz (not a fixture generator).

Usage: /usr/bin/python3 viz_event_check.py EVENT_FILE  -> prints JSON on stdout.

Reads TFRecord framing, verifies both masked CRC-32C checksums of every record, and decodes Event / Summary /
GraphDef messages with a hand-written protobuf wire decoder (field numbers from TensorFlow's event.proto,
summary.proto, graph.proto, node_def.proto, attr_value.proto, tensor_shape.proto). PNG images are decoded with
Pillow when it is installed. CRC-32C comes from a bitwise implementation here and, when Debian's python3-crc32c
is installed, is cross-checked against that module.
"""
import io
import json
import struct
import sys


def crc32c_bitwise(data):
    """CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), one bit at a time."""
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 if crc & 1 else 0)
    return crc ^ 0xFFFFFFFF


try:
    import crc32c as _crc32c_module  # Debian python3-crc32c
except ImportError:
    _crc32c_module = None


def crc32c(data):
    crc = crc32c_bitwise(data)
    if _crc32c_module is not None and _crc32c_module.crc32c(data) != crc:
        raise SystemExit("bitwise CRC-32C disagrees with the crc32c module")
    return crc


def masked(crc):
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def varint(buf, pos):
    result = shift = 0
    while True:
        b = buf[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return result, pos


def fields(buf):
    """Yields (field number, wire type, value) for a protobuf message; value is int or bytes."""
    pos = 0
    while pos < len(buf):
        key, pos = varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == 2:
            n, pos = varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        elif wire == 5:
            value, pos = buf[pos:pos + 4], pos + 4
        else:
            raise ValueError("unsupported wire type %d" % wire)
        yield number, wire, value
    if pos != len(buf):
        raise ValueError("message overruns its buffer")


def int64(v):
    return v - (1 << 64) if v >= 1 << 63 else v


def shape(buf):
    dims = []
    for n, _, v in fields(buf):
        if n == 2:  # TensorShapeProto.dim
            size = 0
            for dn, _, dv in fields(v):
                if dn == 1:  # Dim.size
                    size = int64(dv)
            dims.append(size)
    return dims


def attr_value(buf):
    out = {}
    for n, _, v in fields(buf):
        if n == 1:  # list
            shapes = [shape(sv) for sn, _, sv in fields(v) if sn == 7]
            out["shapeList"] = shapes
        elif n == 2:
            out["s"] = v.decode("utf-8")
        elif n == 3:
            out["i"] = int64(v)
        elif n == 5:
            out["b"] = bool(v)
        elif n == 6:
            out["type"] = v
        elif n == 7:
            out["shape"] = shape(v)
        else:
            raise ValueError("unexpected AttrValue field %d" % n)
    return out


def node_def(buf):
    node = {"name": "", "op": "", "inputs": [], "attrs": {}}
    for n, _, v in fields(buf):
        if n == 1:
            node["name"] = v.decode("utf-8")
        elif n == 2:
            node["op"] = v.decode("utf-8")
        elif n == 3:
            node["inputs"].append(v.decode("utf-8"))
        elif n == 5:  # map<string, AttrValue> entry
            key, value = None, b""
            for en, _, ev in fields(v):
                if en == 1:
                    key = ev.decode("utf-8")
                elif en == 2:
                    value = ev
            node["attrs"][key] = attr_value(value)
    return node


def image(buf):
    out = {}
    for n, _, v in fields(buf):
        if n == 1:
            out["height"] = v
        elif n == 2:
            out["width"] = v
        elif n == 3:
            out["colorspace"] = v
        elif n == 4:
            out["png_signature_ok"] = v[:8] == b"\x89PNG\r\n\x1a\n"
            try:
                from PIL import Image
            except ImportError:
                continue
            img = Image.open(io.BytesIO(v))
            img.load()
            out["decoded"] = {"mode": img.mode, "size": list(img.size), "pixels": list(img.tobytes())}
    return out


def summary(buf):
    values = []
    for n, _, v in fields(buf):
        if n != 1:
            continue
        value = {}
        for vn, _, vv in fields(v):
            if vn == 1:
                value["tag"] = vv.decode("utf-8")
            elif vn == 2:
                value["simple_value"] = struct.unpack("<f", vv)[0]
            elif vn == 4:
                value["image"] = image(vv)
        values.append(value)
    return values


def event(buf):
    out = {"wall_time": 0.0, "step": 0}
    for n, _, v in fields(buf):
        if n == 1:
            out["wall_time"] = struct.unpack("<d", v)[0]
        elif n == 2:
            out["step"] = int64(v)
        elif n == 3:
            out["file_version"] = v.decode("utf-8")
        elif n == 4:
            nodes = [node_def(nv) for nn, _, nv in fields(v) if nn == 1]
            out["graph_def"] = {"nodes": nodes}
        elif n == 5:
            out["summary"] = summary(v)
    return out


def main(path):
    data = open(path, "rb").read()
    pos, events = 0, []
    while pos < len(data):
        if pos + 12 > len(data):
            raise SystemExit("truncated record header at byte %d" % pos)
        header = data[pos:pos + 8]
        (length,) = struct.unpack("<Q", header)
        (header_crc,) = struct.unpack("<I", data[pos + 8:pos + 12])
        if header_crc != masked(crc32c(header)):
            raise SystemExit("bad length CRC at byte %d" % pos)
        body = data[pos + 12:pos + 12 + length]
        if len(body) != length or pos + 16 + length > len(data):
            raise SystemExit("truncated record at byte %d" % pos)
        (body_crc,) = struct.unpack("<I", data[pos + 12 + length:pos + 16 + length])
        if body_crc != masked(crc32c(body)):
            raise SystemExit("bad data CRC at byte %d" % pos)
        events.append(event(body))
        pos += 16 + length
    json.dump({
        "records": len(events),
        "crc_checked_by": "bitwise" + ("+crc32c module" if _crc32c_module else ""),
        "events": events,
    }, sys.stdout)


if __name__ == "__main__":
    main(sys.argv[1])
