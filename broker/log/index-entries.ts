// The storage both sparse indexes share: fixed-size entries in one growable buffer, kept in
// memory (Node has no mmap) and written out whole. The index classes give the entries meaning.

export class IndexEntries {
  readonly entrySize: number;
  #buf: Buffer;
  #count: number;

  /** Empty with room for `initialCapacity` entries, or loaded from already checked bytes. */
  constructor(entrySize: number, initialCapacity: number, bytes?: Buffer) {
    this.entrySize = entrySize;
    if (bytes === undefined) {
      this.#buf = Buffer.alloc(initialCapacity * entrySize);
      this.#count = 0;
    } else {
      this.#buf = Buffer.from(bytes);
      this.#count = bytes.length / entrySize;
    }
  }

  get count(): number {
    return this.#count;
  }

  /** The bytes; entry i starts at `i * entrySize`. Valid until the next append. */
  get buffer(): Buffer {
    return this.#buf;
  }

  /** Makes room for one more entry, lets `write` fill it at the byte offset given, counts it. */
  append(write: (buf: Buffer, at: number) => void): void {
    const at = this.#count * this.entrySize;
    if (at + this.entrySize > this.#buf.length) {
      const grown = Buffer.alloc(this.#buf.length * 2);
      this.#buf.copy(grown, 0, 0, at);
      this.#buf = grown;
    }
    write(this.#buf, at);
    this.#count++;
  }

  /**
   * The last entry for which `below(at)` holds, by binary search (it must hold for a prefix of
   * the entries), or -1 when it holds for none.
   */
  lastWhere(below: (buf: Buffer, at: number) => boolean): number {
    let lo = 0;
    let hi = this.#count - 1;
    let found = -1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (below(this.#buf, mid * this.entrySize)) {
        found = mid;
        lo = mid + 1;
      } else {
        hi = mid - 1;
      }
    }
    return found;
  }

  /** Drops entries from the end while `drop(index)` holds for the last one. */
  dropLastWhile(drop: (index: number) => boolean): void {
    while (this.#count > 0 && drop(this.#count - 1)) this.#count--;
  }

  /** The on-disk form: exactly the entries (a copy, safe to write while appends continue). */
  toBuffer(): Buffer {
    return Buffer.from(this.#buf.subarray(0, this.#count * this.entrySize));
  }
}
