// One segment of a partition log: `<base>.log` holding whole record batches back to back, and
// its sparse `.index` / `.timeindex`. Bytes past `size` may be mid-write; readers never look
// past `size`, which the partition log moves only after a write completed, so a fetch never
// returns a half-written batch.
import { open, readFile, rename, rm, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { SluiceError, isSluiceError } from '../../common/errors.ts';
import { BATCH_HEADER_SIZE, LOG_OVERHEAD, batchSizeAt, decodeRecordBatch, readBatchHeader, validateBatch, type BatchHeader } from '../../common/record-batch.ts';
import { writeFileAtomically } from './checkpoint-file.ts';
import { DELETED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, offsetFileName } from './log-file-names.ts';
import { OffsetIndex } from './offset-index.ts';
import { TimeIndex } from './time-index.ts';

const EMPTY = Buffer.alloc(0);
const SCAN_CHUNK_BYTES = 1024 * 1024;
const INT32_MAX = 0x7fffffff;
const TWO_POW_32 = 2 ** 32;
// Offset of lastOffsetDelta in a batch header (record-batch.ts layout).
const LAST_OFFSET_DELTA_AT = 23;

export interface ScanResult {
  /** Position after the last batch accepted. */
  end: number;
  /** Why the scan stopped before its end: the batch at `end` is torn or corrupt. */
  error: SluiceError | null;
}

/**
 * Everything derived from the batches of a segment. Rebuilds fill a fresh one and swap it in
 * with one assignment, so a concurrent reader sees the old state or the new, never half of one.
 */
class SegmentState {
  readonly offsetIndex: OffsetIndex;
  readonly timeIndex: TimeIndex;
  bytesSinceLastIndexEntry = 0;
  maxTimestamp = -1;
  offsetOfMaxTimestamp: number;
  nextOffset: number;

  constructor(baseOffset: number, offsetIndex = new OffsetIndex(baseOffset), timeIndex = new TimeIndex(baseOffset)) {
    this.offsetIndex = offsetIndex;
    this.timeIndex = timeIndex;
    this.offsetOfMaxTimestamp = baseOffset;
    this.nextOffset = baseOffset;
  }

  /** An offset and time index entry every indexIntervalBytes, pointing at the batch's start. */
  add(header: BatchHeader, position: number, indexIntervalBytes: number): void {
    if (header.maxTimestamp > this.maxTimestamp) {
      this.maxTimestamp = header.maxTimestamp;
      this.offsetOfMaxTimestamp = header.lastOffset;
    }
    if (this.bytesSinceLastIndexEntry > indexIntervalBytes) {
      this.offsetIndex.append(header.baseOffset, position);
      if (this.maxTimestamp >= 0) this.timeIndex.maybeAppend(this.maxTimestamp, this.offsetOfMaxTimestamp);
      this.bytesSinceLastIndexEntry = 0;
    }
    this.bytesSinceLastIndexEntry += header.sizeInBytes;
    this.nextOffset = header.lastOffset + 1;
  }
}

export class LogSegment {
  readonly dir: string;
  readonly baseOffset: number;
  readonly logPath: string;
  readonly indexPath: string;
  readonly timeIndexPath: string;
  /** Committed bytes: every batch below this position is whole and visible to readers. */
  size: number;
  /** Wall-clock ms when the segment received its first batch (segment.ms counts from it); null while empty. */
  rollStartMs: number | null = null;
  /** The in-memory indexes differ from the index files (written at seal and close). */
  indexesDirty = false;
  /** Index spacing used when the indexes are rebuilt (the log keeps it in line with its config). */
  indexIntervalBytes = 4096;

  readonly #logger: Logger;
  #handle: FileHandle | null = null;
  #opening: Promise<FileHandle> | null = null;
  #state: SegmentState | null = null;
  #stateLoad: Promise<void> | null = null;
  /** nextOffset of a sealed segment whose indexes are not loaded yet (the next segment's base). */
  #knownNextOffset: number;
  /** Where the batch after the previous read starts, so sequential consumers skip the index walk. */
  #readCursor: { offset: number; position: number } | null = null;
  #refs = 0;
  #deleted = false;
  #closed = false;
  #idle: (() => void) | null = null;

  private constructor(dir: string, baseOffset: number, size: number, logger: Logger) {
    this.dir = dir;
    this.baseOffset = baseOffset;
    this.logPath = join(dir, offsetFileName(baseOffset, LOG_SUFFIX));
    this.indexPath = join(dir, offsetFileName(baseOffset, INDEX_SUFFIX));
    this.timeIndexPath = join(dir, offsetFileName(baseOffset, TIME_INDEX_SUFFIX));
    this.size = size;
    this.#knownNextOffset = baseOffset;
    this.#logger = logger;
  }

  /** A new empty segment; leftover files with its name are replaced. */
  static async create(dir: string, baseOffset: number, logger: Logger): Promise<LogSegment> {
    const segment = new LogSegment(dir, baseOffset, 0, logger);
    await Promise.all([rm(segment.indexPath, { force: true }), rm(segment.timeIndexPath, { force: true })]);
    segment.#handle = await open(segment.logPath, 'w+');
    segment.#state = new SegmentState(baseOffset);
    segment.indexesDirty = true;
    return segment;
  }

  /** An existing segment file of `size` bytes; the loader then sets nextOffset or recovers it. */
  static existing(dir: string, baseOffset: number, size: number, logger: Logger): LogSegment {
    return new LogSegment(dir, baseOffset, size, logger);
  }

  get isEmpty(): boolean {
    return this.size === 0;
  }

  get nextOffset(): number {
    return this.#state?.nextOffset ?? this.#knownNextOffset;
  }

  /** For a sealed segment loaded lazily: its end is where the next segment begins (offsets are contiguous). */
  set knownNextOffset(offset: number) {
    this.#knownNextOffset = offset;
  }

  get lastOffset(): number {
    return this.nextOffset - 1;
  }

  /** Largest batch maxTimestamp, -1 when empty or the indexes are not loaded (call ensureIndexes). */
  get maxTimestamp(): number {
    return this.#state?.maxTimestamp ?? -1;
  }

  get offsetIndex(): OffsetIndex {
    return this.#loadedState().offsetIndex;
  }

  get timeIndex(): TimeIndex {
    return this.#loadedState().timeIndex;
  }

  get indexesLoaded(): boolean {
    return this.#state !== null;
  }

  #loadedState(): SegmentState {
    if (this.#state === null) throw new Error(`indexes of segment ${this.logPath} are not loaded`);
    return this.#state;
  }

  /** Opened lazily: a log with many sealed segments should not hold a descriptor for each until read. */
  async file(): Promise<FileHandle> {
    if (this.#handle !== null) return this.#handle;
    if (this.#closed || this.#deleted) throw new SluiceError('CLOSED', `segment ${this.logPath} is closed`);
    this.#opening ??= open(this.logPath, 'r+').then((h) => {
      if (this.#closed || this.#deleted) {
        void h.close();
        throw new SluiceError('CLOSED', `segment ${this.logPath} is closed`);
      }
      this.#handle = h;
      return h;
    });
    try {
      return await this.#opening;
    } finally {
      this.#opening = null;
    }
  }

  // -------------------------------------------------------------------------------------------
  // Indexes

  /**
   * Loads the index files of a sealed segment, sanity-checked against it (whole entries,
   * monotonic, inside the file and the segment's offsets); a missing or failing index is
   * rebuilt from the batch headers. Done on first use, so opening a long log reads no index.
   */
  ensureIndexes(): Promise<void> {
    if (this.#state !== null) return Promise.resolve();
    this.#stateLoad ??= this.#loadIndexes().finally(() => {
      this.#stateLoad = null;
    });
    return this.#stateLoad;
  }

  async #loadIndexes(): Promise<void> {
    try {
      const [offsetBytes, timeBytes] = await Promise.all([readFile(this.indexPath), readFile(this.timeIndexPath)]);
      const lastOffset = this.#knownNextOffset - 1;
      const state = new SegmentState(
        this.baseOffset,
        OffsetIndex.parse(this.indexPath, offsetBytes, this.baseOffset, this.size, lastOffset),
        TimeIndex.parse(this.timeIndexPath, timeBytes, this.baseOffset, lastOffset),
      );
      state.nextOffset = this.#knownNextOffset;
      const lastTime = state.timeIndex.lastEntry();
      if (lastTime !== null) {
        state.maxTimestamp = lastTime.timestamp;
        state.offsetOfMaxTimestamp = lastTime.offset;
      }
      state.bytesSinceLastIndexEntry = this.size - state.offsetIndex.lastEntry().position;
      this.#state = state;
    } catch (err) {
      const missing = (err as NodeJS.ErrnoException).code === 'ENOENT';
      if (!missing && !isSluiceError(err, 'STORAGE_ERROR')) throw err;
      if (this.size > 0) {
        this.#logger.warn({ err, segment: this.logPath }, missing ? 'index files missing; rebuilding them from the log' : 'index failed its sanity check; rebuilding it from the log');
      }
      const result = await this.rebuild({ validate: false });
      if (result.error !== null) {
        // Below the recovery point the data is trusted, so this is damage after the fact; the
        // segment stays readable up to it and reads past it fail with CORRUPT_MESSAGE.
        this.#logger.error({ err: result.error, segment: this.logPath, position: result.end }, 'segment holds a damaged batch');
      }
    }
  }

  /**
   * Rebuilds all derived state by scanning the file from 0 to `size` (with validate, CRCs
   * too). `visit` sees each batch before it is indexed and may reject it by throwing
   * CORRUPT_MESSAGE. The state covers the batches before the first rejected, torn or corrupt
   * one; the caller decides whether to cut the file there.
   */
  async rebuild(opts: { validate: boolean; visit?: (header: BatchHeader, position: number) => void }): Promise<ScanResult> {
    const state = new SegmentState(this.baseOffset);
    const interval = this.indexIntervalBytes;
    const result = await this.scan(0, this.size, { validate: opts.validate }, (header, position) => {
      opts.visit?.(header, position);
      state.add(header, position, interval);
    });
    this.#state = state;
    this.#readCursor = null;
    this.indexesDirty = true;
    return result;
  }

  /**
   * Clean-start load of the last segment: its index files (written at close) are trusted only
   * after the batches from the last offset index entry to the end of the file are validated
   * and continue that entry's offset; that tail also yields the log end offset. Returns false
   * when anything does not fit, and the caller recovers the whole segment instead.
   */
  async loadAsActive(): Promise<boolean> {
    let offsetIndex: OffsetIndex;
    let timeBytes: Buffer;
    try {
      const [offsetBytes, tb] = await Promise.all([readFile(this.indexPath), readFile(this.timeIndexPath)]);
      offsetIndex = OffsetIndex.parse(this.indexPath, offsetBytes, this.baseOffset, this.size, Number.MAX_SAFE_INTEGER);
      timeBytes = tb;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' && !isSluiceError(err, 'STORAGE_ERROR')) throw err;
      this.#logger.warn({ err, segment: this.logPath }, 'index of the active segment is missing or damaged');
      return false;
    }
    const last = offsetIndex.lastEntry();
    let expected = last.offset;
    let tailMax = -1;
    let tailMaxOffset = this.baseOffset;
    const result = await this.scan(last.position, this.size, { validate: true }, (h, position) => {
      if (h.baseOffset !== expected) throw new SluiceError('CORRUPT_MESSAGE', `batch at byte ${position} has base offset ${h.baseOffset}, expected ${expected}`);
      expected = h.lastOffset + 1;
      if (h.maxTimestamp > tailMax) {
        tailMax = h.maxTimestamp;
        tailMaxOffset = h.lastOffset;
      }
    });
    if (result.error !== null) {
      this.#logger.warn({ err: result.error, segment: this.logPath, position: result.end }, 'active segment does not end cleanly after a clean shutdown');
      return false;
    }
    let timeIndex: TimeIndex;
    try {
      timeIndex = TimeIndex.parse(this.timeIndexPath, timeBytes, this.baseOffset, expected - 1);
    } catch (err) {
      this.#logger.warn({ err, segment: this.logPath }, 'time index of the active segment is damaged');
      return false;
    }
    const state = new SegmentState(this.baseOffset, offsetIndex, timeIndex);
    state.nextOffset = expected;
    const lastTime = timeIndex.lastEntry();
    if (lastTime !== null) {
      state.maxTimestamp = lastTime.timestamp;
      state.offsetOfMaxTimestamp = lastTime.offset;
    }
    if (tailMax > state.maxTimestamp) {
      state.maxTimestamp = tailMax;
      state.offsetOfMaxTimestamp = tailMaxOffset;
    }
    state.bytesSinceLastIndexEntry = this.size - last.position;
    this.#state = state;
    this.indexesDirty = false;
    return true;
  }

  /** Index bookkeeping for a batch whose bytes are now written at `position`. */
  recordAppended(header: BatchHeader, position: number, indexIntervalBytes: number): void {
    this.#loadedState().add(header, position, indexIntervalBytes);
    this.indexesDirty = true;
  }

  /** Whether offsets up to `lastOffset` can be stored relative to this segment's base (int32). */
  canHoldOffset(lastOffset: number): boolean {
    return lastOffset - this.baseOffset <= INT32_MAX;
  }

  // -------------------------------------------------------------------------------------------
  // Writing

  /**
   * Writes whole batches at `size` with one writev. On any failure, including a short write
   * (libuv reports a write that hit ENOSPC part-way as success with fewer bytes), the file is
   * cut back to `size`, so no partial batch stays behind and the space is given back.
   */
  async write(buffers: Buffer[], bytes: number): Promise<void> {
    const handle = await this.file();
    const position = this.size;
    let written = 0;
    try {
      written = (await handle.writev(buffers, position)).bytesWritten;
    } catch (err) {
      await this.#cutBack(handle, position);
      throw err;
    }
    if (written !== bytes) {
      await this.#cutBack(handle, position);
      throw Object.assign(new Error(`short write: ${written} of ${bytes} bytes`), { code: 'ENOSPC' });
    }
  }

  async #cutBack(handle: FileHandle, position: number): Promise<void> {
    try {
      await handle.truncate(position);
    } catch (err) {
      // The log stays correct (readers and the next write use `size`), but the file keeps
      // garbage past it until a later write overwrites it or recovery cuts it.
      this.#logger.error({ err, segment: this.logPath, position }, 'cannot truncate segment back after a failed write');
    }
  }

  async flush(): Promise<void> {
    if (this.#handle === null) return; // not opened since load: nothing written through it
    await this.#handle.sync();
  }

  /**
   * Makes the segment immutable on disk: the final time index entry (its largest timestamp,
   * which retention reads after a restart), the log fsynced, both index files written.
   */
  async seal(): Promise<void> {
    const state = this.#state;
    if (state !== null && state.maxTimestamp >= 0 && state.timeIndex.maybeAppend(state.maxTimestamp, state.offsetOfMaxTimestamp)) this.indexesDirty = true;
    await this.flush();
    await this.writeIndexes();
  }

  async writeIndexes(): Promise<void> {
    if (!this.indexesDirty || this.#state === null) return;
    this.indexesDirty = false;
    try {
      await Promise.all([writeFileAtomically(this.indexPath, this.#state.offsetIndex.toBuffer()), writeFileAtomically(this.timeIndexPath, this.#state.timeIndex.toBuffer())]);
    } catch (err) {
      this.indexesDirty = true;
      throw err;
    }
  }

  /**
   * Drops every batch from the first one whose last offset is >= `offset` (a batch is never
   * split). The cut is fsynced before returning: the caller lowers the recovery point next,
   * and a truncation lost in a power failure would bring diverged batches back as valid.
   */
  async truncateTo(offset: number): Promise<number> {
    await this.ensureIndexes();
    const found = await this.#locate(offset, this.size);
    if (found === null) return 0;
    const removed = this.size - found.position;
    const handle = await this.file();
    await handle.truncate(found.position);
    await handle.sync();
    this.size = found.position;
    if (this.size === 0) this.rollStartMs = null;
    await Promise.all([rm(this.indexPath, { force: true }), rm(this.timeIndexPath, { force: true })]);
    // The indexes are cut at the batch boundary, and the largest timestamp may have been in
    // the removed part, so rebuild the derived state from the remaining bytes.
    const result = await this.rebuild({ validate: false });
    if (result.error !== null) throw result.error;
    return removed;
  }

  /** Cuts the file at `position` (recovery: the first torn or corrupt batch) and fsyncs the cut. */
  async truncateFile(position: number): Promise<void> {
    const handle = await this.file();
    await handle.truncate(position);
    await handle.sync();
    this.size = position;
  }

  async lastModifiedMs(): Promise<number> {
    return (await stat(this.logPath)).mtimeMs;
  }

  // -------------------------------------------------------------------------------------------
  // Reading

  /**
   * Visits batches between `from` and `to` in file order, reading large chunks. Stops at the
   * first batch that is torn (runs past `to`) or corrupt (bad length or magic; bad CRC too
   * with validate) or that `visit` rejects with CORRUPT_MESSAGE, and reports where.
   */
  async scan(from: number, to: number, opts: { validate: boolean }, visit: (header: BatchHeader, position: number) => void): Promise<ScanResult> {
    if (from >= to) return { end: from, error: null };
    const handle = await this.file();
    let scratch = Buffer.allocUnsafe(Math.min(SCAN_CHUNK_BYTES, to - from));
    let chunk = EMPTY;
    let chunkStart = from;
    let pos = from;
    const refill = async (need: number): Promise<void> => {
      const want = Math.min(Math.max(SCAN_CHUNK_BYTES, need), to - pos);
      if (scratch.length < want) scratch = Buffer.allocUnsafe(want);
      chunk = scratch.subarray(0, await readFully(handle, scratch, want, pos));
      chunkStart = pos;
    };
    while (pos < to) {
      try {
        if (chunkStart + chunk.length - pos < LOG_OVERHEAD) await refill(LOG_OVERHEAD);
        const size = batchSizeAt(chunk, pos - chunkStart);
        if (size === -1 || pos + size > to) {
          throw new SluiceError('CORRUPT_MESSAGE', `torn batch at byte ${pos}: ${size === -1 ? 'the length prefix is cut off' : `it declares ${size} bytes but only ${to - pos} remain`}`);
        }
        // Header-only scans need just the header in memory; validation needs the whole batch.
        const need = opts.validate ? size : BATCH_HEADER_SIZE;
        if (chunkStart + chunk.length - pos < need) {
          await refill(need);
          if (chunk.length < need) throw new SluiceError('CORRUPT_MESSAGE', `torn batch at byte ${pos}: the file ends inside it`);
        }
        const rel = pos - chunkStart;
        const header = opts.validate ? validateBatch(chunk, rel, Number.MAX_SAFE_INTEGER) : readBatchHeader(chunk, rel);
        visit(header, pos);
        pos += size;
      } catch (err) {
        if (isSluiceError(err) && (err.code === 'CORRUPT_MESSAGE' || err.code === 'UNSUPPORTED_COMPRESSION' || err.code === 'MESSAGE_TOO_LARGE')) {
          return { end: pos, error: err };
        }
        throw err;
      }
    }
    return { end: pos, error: null };
  }

  /**
   * Header of the batch at `position`, or null if no whole batch starts there below `end`.
   * Throws CORRUPT_MESSAGE naming the file and byte when the header is damaged: a batchLength
   * below the header size (batchSizeAt refuses it) would make a walk over the headers stand
   * still or run backwards, and a segment loaded without recovery is not validated up front.
   */
  async #headerAt(handle: FileHandle, position: number, end: number, scratch: Buffer): Promise<BatchHeader | null> {
    if (end - position < BATCH_HEADER_SIZE) return null;
    const n = await readFully(handle, scratch, BATCH_HEADER_SIZE, position);
    if (n < BATCH_HEADER_SIZE) return null;
    let header: BatchHeader;
    try {
      batchSizeAt(scratch, 0);
      header = readBatchHeader(scratch, 0);
    } catch (err) {
      if (isSluiceError(err, 'CORRUPT_MESSAGE') || isSluiceError(err, 'UNSUPPORTED_COMPRESSION')) throw this.#damaged(position, err);
      throw err;
    }
    return position + header.sizeInBytes <= end ? header : null;
  }

  /** A record-batch error about a header read into a scratch buffer (its "byte 0"), restated for this file. */
  #damaged(position: number, err: SluiceError): SluiceError {
    const problem = err.message.replace(/^record batch at byte 0 /, '');
    return new SluiceError('CORRUPT_MESSAGE', `${this.logPath} is damaged: the batch at byte ${position} ${problem}`, err.details, { cause: err });
  }

  /** The first batch whose last offset is >= offset, below `end`. */
  async #locate(offset: number, end: number): Promise<{ position: number; header: BatchHeader } | null> {
    const handle = await this.file();
    const scratch = Buffer.allocUnsafe(BATCH_HEADER_SIZE);
    const cursor = this.#readCursor;
    let position: number;
    if (cursor !== null && cursor.offset === offset && cursor.position < end) {
      position = cursor.position;
    } else {
      const entry = this.offsetIndex.lookup(offset);
      position = entry.position;
      if (position > 0) {
        // An index entry that does not land on its batch (damage the load-time checks cannot
        // see) would make every read from here wrong; scanning from the start is slow but right.
        let header: BatchHeader | null = null;
        try {
          header = await this.#headerAt(handle, position, end, scratch);
        } catch {
          header = null;
        }
        if (header === null || header.baseOffset !== entry.offset) {
          this.#logger.error({ segment: this.logPath, entry }, 'offset index entry does not point at its batch; scanning the segment from its start');
          position = 0;
        }
      }
    }
    while (position < end) {
      const header = await this.#headerAt(handle, position, end, scratch);
      if (header === null) return null;
      if (header.lastOffset >= offset) return { position, header };
      position += header.sizeInBytes;
    }
    return null;
  }

  /**
   * Whole batches from the one holding `offset` (or the first after it): at least that one,
   * then more while they fit in maxBytes and start below maxOffset. Bounded by `size` as of
   * the call, so bytes still being written are never returned.
   */
  async read(offset: number, maxBytes: number, maxOffset: number): Promise<Buffer> {
    const end = this.size;
    await this.ensureIndexes();
    const found = await this.#locate(offset, end);
    if (found === null || found.header.baseOffset >= maxOffset) return EMPTY;
    const length = Math.min(end - found.position, Math.max(found.header.sizeInBytes, maxBytes));
    const buf = Buffer.allocUnsafe(length);
    const n = await readFully(await this.file(), buf, length, found.position);
    let cut = 0;
    let nextOffset = offset;
    while (n - cut >= BATCH_HEADER_SIZE) {
      const base = readInt64(buf, cut);
      let size: number;
      try {
        size = batchSizeAt(buf, cut);
      } catch {
        // A damaged length after the first batch: serve the batches before it; the next read
        // starts at it and reports the damage through #headerAt.
        break;
      }
      if (base >= maxOffset || cut + size > n) break;
      nextOffset = base + buf.readInt32BE(cut + LAST_OFFSET_DELTA_AT) + 1;
      cut += size;
    }
    if (cut > 0) this.#readCursor = { offset: nextOffset, position: found.position + cut };
    return cut === length ? buf : buf.subarray(0, cut);
  }

  /**
   * First record at or after startingOffset with timestamp >= ts (Kafka's
   * findOffsetByTimestamp): the time index bounds where to start, batch headers find the
   * batch, and only that batch is decoded for the exact record.
   */
  async findOffsetByTimestamp(ts: number, startingOffset: number): Promise<{ offset: number; timestamp: number } | null> {
    await this.ensureIndexes();
    if (this.maxTimestamp < ts) return null;
    const end = this.size;
    const before = this.timeIndex.lookupBefore(ts);
    const located = await this.#locate(Math.max(before?.offset ?? this.baseOffset, startingOffset), end);
    if (located === null) return null;
    const handle = await this.file();
    const scratch = Buffer.allocUnsafe(BATCH_HEADER_SIZE);
    let position = located.position;
    let header: BatchHeader | null = located.header;
    while (header !== null) {
      if (header.maxTimestamp >= ts && header.lastOffset >= startingOffset) {
        // Decodes one batch synchronously, decompressing it if needed: bounded by
        // MAX_DECOMPRESSED_BATCH_BYTES (record-batch.ts), and the leader validated at append
        // that it decompresses (record-validation.ts), so this is a short stall at worst.
        const bytes = Buffer.allocUnsafe(header.sizeInBytes);
        await readFully(handle, bytes, header.sizeInBytes, position);
        for (const r of decodeRecordBatch(bytes).records) {
          if (r.offset >= startingOffset && r.timestamp >= ts) return { offset: r.offset, timestamp: r.timestamp };
        }
      }
      position += header.sizeInBytes;
      header = await this.#headerAt(handle, position, end, scratch);
    }
    return null;
  }

  /** maxTimestamp of the first batch (a restart measures segment.ms from it), or null if empty. */
  async firstBatchMaxTimestamp(): Promise<number | null> {
    const scratch = Buffer.allocUnsafe(BATCH_HEADER_SIZE);
    const header = await this.#headerAt(await this.file(), 0, this.size, scratch);
    return header?.maxTimestamp ?? null;
  }

  // -------------------------------------------------------------------------------------------
  // Lifetime: readers hold a reference so retention or close never pulls a file from under a read.

  acquire(): boolean {
    if (this.#deleted || this.#closed) return false;
    this.#refs++;
    return true;
  }

  release(): void {
    this.#refs--;
    if (this.#refs === 0 && this.#idle !== null) this.#idle();
  }

  async #closeHandle(): Promise<void> {
    while (this.#refs > 0) await new Promise<void>((resolve) => (this.#idle = resolve));
    this.#idle = null;
    await this.#opening?.catch(() => undefined);
    const handle = this.#handle;
    this.#handle = null;
    await handle?.close();
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#closeHandle();
  }

  /**
   * Removes the segment: its files are renamed to `.deleted` at once (so a restart does not
   * bring it back) and unlinked once the last reader lets go.
   */
  async delete(): Promise<void> {
    if (this.#deleted) return;
    this.#deleted = true;
    const paths = [this.logPath, this.indexPath, this.timeIndexPath];
    await Promise.all(
      paths.map((p) =>
        rename(p, p + DELETED_SUFFIX).catch((err: NodeJS.ErrnoException) => {
          if (err.code !== 'ENOENT') throw err;
        }),
      ),
    );
    const finish = async (): Promise<void> => {
      this.#closed = true;
      await this.#closeHandle();
      await Promise.all(paths.map((p) => rm(p + DELETED_SUFFIX, { force: true })));
    };
    if (this.#refs === 0) {
      await finish();
    } else {
      finish().catch((err: unknown) => this.#logger.error({ err, segment: this.logPath }, 'cannot remove deleted segment files'));
    }
  }
}

async function readFully(handle: FileHandle, buf: Buffer, length: number, position: number): Promise<number> {
  let done = 0;
  while (done < length) {
    const { bytesRead } = await handle.read(buf, done, length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

function readInt64(buf: Buffer, at: number): number {
  return buf.readInt32BE(at) * TWO_POW_32 + buf.readUInt32BE(at + 4);
}
