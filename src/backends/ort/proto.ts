/**
 * A minimal protobuf writer for the part of onnx.proto a lowered graph needs. Hand-written
 * because the generated protobufjs classes cost ~200 ms to import and allocate an object per
 * field; this writes bytes directly. Field numbers follow onnx/onnx.proto (proto2: repeated
 * scalars unpacked, which every parser accepts).
 */

export type AttrValue =
  | { kind: 'int'; value: number }
  | { kind: 'float'; value: number }
  | { kind: 'string'; value: string }
  | { kind: 'ints'; value: readonly number[] }
  | { kind: 'floats'; value: readonly number[] }
  | { kind: 'strings'; value: readonly string[] };

export interface NodeSpec { opType: string; domain: string; name: string; inputs: readonly string[]; outputs: readonly string[]; attrs: readonly (readonly [string, AttrValue])[] }
export interface TensorSpec { name: string; dims: readonly number[]; dataType: number; raw: Uint8Array }
/** A graph input or output; a string dim is symbolic (dim_param: the same name means the same size, e.g. 'batch'). */
export interface ValueInfoSpec { name: string; elemType: number; dims: readonly (number | string)[] }
export interface ModelSpec {
  irVersion: number;
  opsets: readonly { domain: string; version: number }[];
  producer: string;
  graphName: string;
  nodes: readonly NodeSpec[];
  initializers: readonly TensorSpec[];
  inputs: readonly ValueInfoSpec[];
  outputs: readonly ValueInfoSpec[];
}

const utf8 = new TextEncoder();
const TWO_64 = 1n << 64n;

class Writer {
  private buf = new Uint8Array(256);
  private len = 0;

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  /** Unsigned varint; negative int64 values are written as their 64-bit two's complement (10 bytes). */
  varint(n: number): void {
    this.reserve(10);
    if (n >= 0 && n < 2 ** 31) {
      let v = n;
      while (v > 0x7f) { this.buf[this.len++] = (v & 0x7f) | 0x80; v >>>= 7; }
      this.buf[this.len++] = v;
      return;
    }
    let v = BigInt(Math.trunc(n));
    if (v < 0n) v += TWO_64;
    while (v > 0x7fn) { this.buf[this.len++] = Number(v & 0x7fn) | 0x80; v >>= 7n; }
    this.buf[this.len++] = Number(v);
  }

  tag(field: number, wire: 0 | 2 | 5): void { this.varint((field << 3) | wire); }
  int(field: number, n: number): void { this.tag(field, 0); this.varint(n); }
  float(field: number, x: number): void {
    this.tag(field, 5);
    this.reserve(4);
    new DataView(this.buf.buffer, this.buf.byteOffset + this.len, 4).setFloat32(0, x, true);
    this.len += 4;
  }
  bytes(field: number, b: Uint8Array): void {
    this.tag(field, 2);
    this.varint(b.length);
    this.reserve(b.length);
    this.buf.set(b, this.len);
    this.len += b.length;
  }
  string(field: number, s: string): void { this.bytes(field, utf8.encode(s)); }
  message(field: number, write: (w: Writer) => void): void {
    const inner = new Writer();
    write(inner);
    this.bytes(field, inner.finish());
  }
  finish(): Uint8Array { return this.buf.subarray(0, this.len); }
}

// AttributeProto.AttributeType
const ATTR_TYPE = { float: 1, int: 2, string: 3, floats: 6, ints: 7, strings: 8 } as const;

function writeAttr(w: Writer, name: string, a: AttrValue): void {
  w.string(1, name);
  w.int(20, ATTR_TYPE[a.kind]);
  switch (a.kind) {
    case 'float': w.float(2, a.value); break;
    case 'int': w.int(3, a.value); break;
    case 'string': w.string(4, a.value); break;
    case 'floats': for (const x of a.value) w.float(7, x); break;
    case 'ints': for (const x of a.value) w.int(8, x); break;
    case 'strings': for (const x of a.value) w.string(9, x); break;
  }
}

function writeNode(w: Writer, n: NodeSpec): void {
  for (const x of n.inputs) w.string(1, x);
  for (const x of n.outputs) w.string(2, x);
  w.string(3, n.name);
  w.string(4, n.opType);
  for (const [name, a] of n.attrs) w.message(5, (m) => writeAttr(m, name, a));
  if (n.domain) w.string(7, n.domain);
}

function writeTensor(w: Writer, t: TensorSpec): void {
  for (const d of t.dims) w.int(1, d);
  w.int(2, t.dataType);
  w.string(8, t.name);
  w.bytes(9, t.raw);
}

function writeValueInfo(w: Writer, v: ValueInfoSpec): void {
  w.string(1, v.name);
  // TypeProto { tensor_type: { elem_type, shape: { dim: [{ dim_value | dim_param }] } } }
  w.message(2, (type) => type.message(1, (tt) => {
    tt.int(1, v.elemType);
    tt.message(2, (shape) => {
      for (const d of v.dims) shape.message(1, (dim) => (typeof d === 'string' ? dim.string(2, d) : dim.int(1, d)));
    });
  }));
}

/** The IR version that goes with an opset (onnx/onnx Versioning.md). */
export function irVersion(opset: number): number {
  return opset <= 18 ? 8 : opset <= 20 ? 9 : 10;
}

/** Serialises a ModelProto. */
export function encodeModel(m: ModelSpec): Uint8Array {
  const w = new Writer();
  w.int(1, m.irVersion);
  w.string(2, m.producer);
  w.message(7, (g) => {
    for (const n of m.nodes) g.message(1, (x) => writeNode(x, n));
    g.string(2, m.graphName);
    for (const t of m.initializers) g.message(5, (x) => writeTensor(x, t));
    for (const v of m.inputs) g.message(11, (x) => writeValueInfo(x, v));
    for (const v of m.outputs) g.message(12, (x) => writeValueInfo(x, v));
  });
  for (const o of m.opsets) w.message(8, (x) => { if (o.domain) x.string(1, o.domain); x.int(2, o.version); });
  return w.finish();
}
