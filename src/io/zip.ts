/**
 * A small read-only zip reader, enough for PyTorch's `torch.save` archives (and Python's zipfile):
 * the central directory (zip64 too), stored and deflated entries, CRC-32 checked. Everything is
 * bounds-checked against the buffer, so a damaged archive gives a CheckpointError, never a crash.
 */
import { crc32, inflateRawSync } from 'node:zlib';
import { CheckpointError } from './checkpoint-error.js';

export interface ZipEntry {
  name: string;
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  localHeaderOffset: number;
}

const EOCD = 0x06054b50;
const ZIP64_LOCATOR = 0x07064b50;
const ZIP64_EOCD = 0x06064b50;
const CENTRAL = 0x02014b50;
const LOCAL = 0x04034b50;

export class ZipReader {
  readonly entries = new Map<string, ZipEntry>();
  private readonly view: DataView;

  constructor(private readonly bytes: Uint8Array, private readonly source: string) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.readCentralDirectory();
  }

  private fail(msg: string): never {
    throw new CheckpointError(`${this.source}: ${msg}`);
  }

  private u16(at: number): number { this.need(at, 2); return this.view.getUint16(at, true); }
  private u32(at: number): number { this.need(at, 4); return this.view.getUint32(at, true); }
  private u64(at: number): number {
    this.need(at, 8);
    const v = this.view.getBigUint64(at, true);
    // Offsets past 2^53 cannot index a buffer anyway; refusing them keeps arithmetic exact.
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) this.fail(`zip: 64-bit field at byte ${at} is too large (${v})`);
    return Number(v);
  }
  private need(at: number, n: number): void {
    if (at < 0 || at + n > this.bytes.length) this.fail(`zip: truncated or corrupt (needs bytes ${at}..${at + n}, file has ${this.bytes.length})`);
  }

  private readCentralDirectory(): void {
    // The end record sits in the last 22 + up-to-65535 (comment) bytes; scan backwards for it.
    let eocd = -1;
    for (let at = this.bytes.length - 22; at >= Math.max(0, this.bytes.length - 22 - 0xffff); at--) {
      if (this.view.getUint32(at, true) === EOCD) { eocd = at; break; }
    }
    if (eocd < 0) this.fail('zip: no end-of-central-directory record (truncated file or not a zip archive)');
    let count = this.u16(eocd + 10);
    let cdSize = this.u32(eocd + 12);
    let cdOffset = this.u32(eocd + 16);
    if (eocd >= 20 && this.view.getUint32(eocd - 20, true) === ZIP64_LOCATOR) {
      const rec = this.u64(eocd - 20 + 8);
      if (this.u32(rec) !== ZIP64_EOCD) this.fail(`zip: zip64 end record expected at byte ${rec}`);
      count = this.u64(rec + 32);
      cdSize = this.u64(rec + 40);
      cdOffset = this.u64(rec + 48);
    }
    if (cdOffset + cdSize > this.bytes.length) this.fail(`zip: central directory (${cdSize} bytes at ${cdOffset}) runs past the end of the file`);
    // Each central entry is at least 46 bytes: a bound on the count before looping over it.
    if (count * 46 > cdSize) this.fail(`zip: central directory of ${cdSize} bytes cannot hold ${count} entries`);
    let at = cdOffset;
    for (let i = 0; i < count; i++) {
      if (this.u32(at) !== CENTRAL) this.fail(`zip: central directory entry ${i} at byte ${at} has a bad signature`);
      const flags = this.u16(at + 8);
      const method = this.u16(at + 10);
      const crc = this.u32(at + 16);
      let compressedSize = this.u32(at + 20);
      let size = this.u32(at + 24);
      const nameLen = this.u16(at + 28);
      const extraLen = this.u16(at + 30);
      const commentLen = this.u16(at + 32);
      let localHeaderOffset = this.u32(at + 42);
      this.need(at + 46, nameLen + extraLen + commentLen);
      const name = new TextDecoder().decode(this.bytes.subarray(at + 46, at + 46 + nameLen));
      if (flags & 1) this.fail(`zip: entry '${name}' is encrypted`);
      // zip64 extra field (id 1): 64-bit values for exactly those fields stored as 0xFFFFFFFF, in this order.
      let e = at + 46 + nameLen;
      const extraEnd = e + extraLen;
      while (e + 4 <= extraEnd) {
        const id = this.u16(e);
        const len = this.u16(e + 2);
        if (e + 4 + len > extraEnd) this.fail(`zip: entry '${name}' has a malformed extra field`);
        if (id === 1) {
          let p = e + 4;
          const take = (): number => { if (p + 8 > e + 4 + len) this.fail(`zip: entry '${name}' has a short zip64 field`); const v = this.u64(p); p += 8; return v; };
          if (size === 0xffffffff) size = take();
          if (compressedSize === 0xffffffff) compressedSize = take();
          if (localHeaderOffset === 0xffffffff) localHeaderOffset = take();
        }
        e += 4 + len;
      }
      if (this.entries.has(name)) this.fail(`zip: duplicate entry '${name}'`);
      this.entries.set(name, { name, method, crc, compressedSize, size, localHeaderOffset });
      at = extraEnd + commentLen;
    }
  }

  /** The bytes of one entry (a view for stored entries, inflated for deflated ones), CRC-checked. */
  read(name: string): Uint8Array {
    const entry = this.entries.get(name);
    if (!entry) this.fail(`zip: no entry '${name}'`);
    const at = entry.localHeaderOffset;
    if (this.u32(at) !== LOCAL) this.fail(`zip: entry '${name}': bad local header signature at byte ${at}`);
    // The local header's name and extra lengths may differ from the central ones (torch pads here for alignment).
    const start = at + 30 + this.u16(at + 26) + this.u16(at + 28);
    this.need(start, entry.compressedSize);
    const raw = this.bytes.subarray(start, start + entry.compressedSize);
    let data: Uint8Array;
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.size) this.fail(`zip: stored entry '${name}' has compressed size ${entry.compressedSize} != size ${entry.size}`);
      data = raw;
    } else if (entry.method === 8) {
      try {
        // maxOutputLength bounds memory by the declared size, so a zip bomb cannot inflate past it.
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
      } catch (e) {
        this.fail(`zip: entry '${name}' does not inflate (${(e as Error).message})`);
      }
      if (data.length !== entry.size) this.fail(`zip: entry '${name}' inflates to ${data.length} bytes, expected ${entry.size}`);
    } else {
      this.fail(`zip: entry '${name}' uses compression method ${entry.method} (only stored and deflate are supported)`);
    }
    if ((crc32(data) >>> 0) !== entry.crc) this.fail(`zip: entry '${name}' fails its CRC-32 check (corrupt file)`);
    return data;
  }
}

/** Whether the bytes start like a zip archive (a local file header). */
export function looksLikeZip(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x50 && bytes[1] === 0x4b && bytes[2] === 0x03 && bytes[3] === 0x04;
}
