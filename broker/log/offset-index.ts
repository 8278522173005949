// Sparse offset index of one segment: (offset relative to the segment base int32, file position
// int32) for a batch every `indexIntervalBytes`, so a read seeks near its batch and scans at most
// one interval of headers. Entries point at batch starts and are strictly increasing in both
// fields. Kept in memory (Node has no mmap) and written to `<base>.index` when the segment is
// sealed or the log is closed; after a crash it is rebuilt from the log, which is the truth.
import { corruptFile } from './checkpoint-file.ts';
import { IndexEntries } from './index-entries.ts';

export const OFFSET_INDEX_ENTRY_SIZE = 8;
const INT32_MAX = 0x7fffffff;
const INITIAL_CAPACITY = 64;

export interface OffsetPosition {
  offset: number;
  position: number;
}

export class OffsetIndex {
  readonly baseOffset: number;
  readonly #entries: IndexEntries;

  constructor(baseOffset: number, entries?: Buffer) {
    this.baseOffset = baseOffset;
    this.#entries = new IndexEntries(OFFSET_INDEX_ENTRY_SIZE, INITIAL_CAPACITY, entries);
  }

  /**
   * Loads index bytes after the sanity checks Kafka runs on open: whole entries only, strictly
   * increasing, every position inside the segment and every offset inside it. Throws
   * STORAGE_ERROR naming the problem; the caller rebuilds the index from the log.
   */
  static parse(path: string, bytes: Buffer, baseOffset: number, segmentSize: number, segmentLastOffset: number): OffsetIndex {
    if (bytes.length % OFFSET_INDEX_ENTRY_SIZE !== 0) {
      throw corruptFile(path, `size ${bytes.length} is not a multiple of ${OFFSET_INDEX_ENTRY_SIZE}`);
    }
    let prevRel = -1;
    let prevPos = -1;
    for (let at = 0; at < bytes.length; at += OFFSET_INDEX_ENTRY_SIZE) {
      const rel = bytes.readInt32BE(at);
      const pos = bytes.readInt32BE(at + 4);
      if (rel <= prevRel || pos <= prevPos) throw corruptFile(path, `entry ${at / OFFSET_INDEX_ENTRY_SIZE} (${rel}, ${pos}) does not increase`);
      if (pos >= segmentSize) throw corruptFile(path, `entry ${at / OFFSET_INDEX_ENTRY_SIZE} points at byte ${pos}, past the segment's ${segmentSize} bytes`);
      if (baseOffset + rel > segmentLastOffset) throw corruptFile(path, `entry ${at / OFFSET_INDEX_ENTRY_SIZE} names offset ${baseOffset + rel}, past the segment's last offset ${segmentLastOffset}`);
      prevRel = rel;
      prevPos = pos;
    }
    return new OffsetIndex(baseOffset, bytes);
  }

  get entries(): number {
    return this.#entries.count;
  }

  get sizeInBytes(): number {
    return this.#entries.count * OFFSET_INDEX_ENTRY_SIZE;
  }

  entry(i: number): OffsetPosition {
    const buf = this.#entries.buffer;
    const at = i * OFFSET_INDEX_ENTRY_SIZE;
    return { offset: this.baseOffset + buf.readInt32BE(at), position: buf.readInt32BE(at + 4) };
  }

  lastEntry(): OffsetPosition {
    const count = this.#entries.count;
    return count === 0 ? { offset: this.baseOffset, position: 0 } : this.entry(count - 1);
  }

  /** Whether an offset can be stored relative to this index's base (int32). */
  canAppendOffset(offset: number): boolean {
    const rel = offset - this.baseOffset;
    return rel >= 0 && rel <= INT32_MAX;
  }

  append(offset: number, position: number): void {
    const rel = offset - this.baseOffset;
    if (!this.canAppendOffset(offset) || position > INT32_MAX || position < 0) {
      throw new RangeError(`offset index of segment ${this.baseOffset} cannot hold (${offset}, ${position})`);
    }
    if (this.#entries.count > 0) {
      const last = this.lastEntry();
      // A non-increasing entry would make binary search return a wrong position for some offsets.
      if (offset <= last.offset || position <= last.position) {
        throw new RangeError(`offset index of segment ${this.baseOffset}: (${offset}, ${position}) after (${last.offset}, ${last.position})`);
      }
    }
    this.#entries.append((buf, at) => {
      buf.writeInt32BE(rel, at);
      buf.writeInt32BE(position, at + 4);
    });
  }

  /** The entry with the largest offset <= target, or (baseOffset, 0) when there is none. */
  lookup(target: number): OffsetPosition {
    const rel = target - this.baseOffset;
    const found = this.#entries.lastWhere((buf, at) => buf.readInt32BE(at) <= rel);
    return found === -1 ? { offset: this.baseOffset, position: 0 } : this.entry(found);
  }

  /** Drops every entry with offset >= `offset`. */
  truncateTo(offset: number): void {
    this.#entries.dropLastWhile((i) => this.entry(i).offset >= offset);
  }

  /** Drops every entry with position >= `position`. */
  truncateToPosition(position: number): void {
    this.#entries.dropLastWhile((i) => this.entry(i).position >= position);
  }

  /** The on-disk form: exactly the entries (a copy, safe to write while appends continue). */
  toBuffer(): Buffer {
    return this.#entries.toBuffer();
  }
}
