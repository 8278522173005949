// Sparse time index of one segment: (timestamp int64, offset relative to the segment base int32).
// An entry (T, O) means "no record at or below offset O has a timestamp above T"; entries are
// added only when the segment's max timestamp grows, so timestamps strictly increase. The
// last entry is the segment's largest timestamp once the segment is sealed, which is what
// time-based retention reads (Kafka's TimeIndex has the same meaning).
import { corruptFile } from './checkpoint-file.ts';
import { IndexEntries } from './index-entries.ts';

export const TIME_INDEX_ENTRY_SIZE = 12;
const TWO_POW_32 = 2 ** 32;
const INT32_MAX = 0x7fffffff;
const INITIAL_CAPACITY = 32;

export interface TimestampOffset {
  timestamp: number;
  offset: number;
}

function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
}

function writeInt64(buf: Buffer, value: number, at: number): void {
  const hi = Math.floor(value / TWO_POW_32);
  buf.writeInt32BE(hi, at);
  buf.writeUInt32BE(value - hi * TWO_POW_32, at + 4);
}

export class TimeIndex {
  readonly baseOffset: number;
  readonly #entries: IndexEntries;

  constructor(baseOffset: number, entries?: Buffer) {
    this.baseOffset = baseOffset;
    this.#entries = new IndexEntries(TIME_INDEX_ENTRY_SIZE, INITIAL_CAPACITY, entries);
  }

  /** Sanity-checked load (whole entries, timestamps increasing, offsets non-decreasing and inside the segment). */
  static parse(path: string, bytes: Buffer, baseOffset: number, segmentLastOffset: number): TimeIndex {
    if (bytes.length % TIME_INDEX_ENTRY_SIZE !== 0) {
      throw corruptFile(path, `size ${bytes.length} is not a multiple of ${TIME_INDEX_ENTRY_SIZE}`);
    }
    let prevTs = Number.NEGATIVE_INFINITY;
    let prevRel = -1;
    for (let at = 0; at < bytes.length; at += TIME_INDEX_ENTRY_SIZE) {
      const ts = readInt64(bytes, at);
      const rel = bytes.readInt32BE(at + 8);
      const n = at / TIME_INDEX_ENTRY_SIZE;
      if (ts <= prevTs || rel < prevRel || rel < 0) throw corruptFile(path, `entry ${n} (${ts}, ${rel}) does not increase`);
      if (baseOffset + rel > segmentLastOffset) throw corruptFile(path, `entry ${n} names offset ${baseOffset + rel}, past the segment's last offset ${segmentLastOffset}`);
      prevTs = ts;
      prevRel = rel;
    }
    return new TimeIndex(baseOffset, bytes);
  }

  get entries(): number {
    return this.#entries.count;
  }

  entry(i: number): TimestampOffset {
    const buf = this.#entries.buffer;
    const at = i * TIME_INDEX_ENTRY_SIZE;
    return { timestamp: readInt64(buf, at), offset: this.baseOffset + buf.readInt32BE(at + 8) };
  }

  lastEntry(): TimestampOffset | null {
    const count = this.#entries.count;
    return count === 0 ? null : this.entry(count - 1);
  }

  /** Appends (timestamp, offset) if timestamp is above the last entry's; returns whether it did. */
  maybeAppend(timestamp: number, offset: number): boolean {
    const rel = offset - this.baseOffset;
    if (rel < 0 || rel > INT32_MAX) throw new RangeError(`time index of segment ${this.baseOffset} cannot hold offset ${offset}`);
    const last = this.lastEntry();
    if (last !== null) {
      if (timestamp <= last.timestamp) return false;
      if (offset < last.offset) throw new RangeError(`time index of segment ${this.baseOffset}: offset ${offset} after ${last.offset}`);
    }
    this.#entries.append((buf, at) => {
      writeInt64(buf, timestamp, at);
      buf.writeInt32BE(rel, at + 8);
    });
    return true;
  }

  /**
   * The entry with the largest timestamp strictly below `target`, or null. Every record at or
   * below its offset is older than target, so a search for the first record >= target may
   * start at the batch holding that offset.
   */
  lookupBefore(target: number): TimestampOffset | null {
    const found = this.#entries.lastWhere((buf, at) => readInt64(buf, at) < target);
    return found === -1 ? null : this.entry(found);
  }

  /** Drops every entry with offset >= `offset`. */
  truncateTo(offset: number): void {
    this.#entries.dropLastWhile((i) => this.entry(i).offset >= offset);
  }

  toBuffer(): Buffer {
    return this.#entries.toBuffer();
  }
}
