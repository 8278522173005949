// The log of one partition replica (DESIGN §4, §5): an ordered list of segments, the last one
// active. Appends are serialized but coalesced: while one write is in flight, later appends
// queue up and are then validated, stamped and written together with one writev (group
// commit), which is what keeps a Node broker fast with many small produce requests. The log
// end offset moves only after a write completed, so readers never see partial bytes.
import { mkdir, readFile, rename, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { SluiceError, isSluiceError, type ErrorDetails } from '../../common/errors.ts';
import { stampBatch, validateBatches, type BatchHeader } from '../../common/record-batch.ts';
import { validateProducerBatches } from '../../common/record-validation.ts';
import { CheckpointFile, corruptFile, parseOffsetField, writeFileAtomically } from './checkpoint-file.ts';
import { LEADER_EPOCH_CHECKPOINT_FILE, LeaderEpochCache, leaderEpochCheckpointFile, type EpochEntry } from './leader-epoch-cache.ts';
import { validateLogConfig, type LogConfig } from './log-config.ts';
import { DELETE_DIR_SUFFIX, OFFSETS_CHECKPOINT_FILE, PARTITION_METADATA_FILE } from './log-file-names.ts';
import { loadSegments } from './log-recovery.ts';
import { checkLeaderBatch, withBatch, ProducerStateManager, type ProducerEntry } from './producer-state.ts';
import { ProducerSnapshots } from './producer-snapshots.ts';
import { LogSegment } from './segment.ts';

export interface AppendResult {
  baseOffset: number;
  lastOffset: number;
  maxTimestamp: number;
  /** A retried idempotent batch: nothing was written, the offsets are those of the original. */
  duplicate: boolean;
  logStartOffset: number;
}

export interface PartitionLogOptions {
  topic: string;
  partition: number;
  /** '' when unknown (a directory whose partition.metadata is damaged); assignTopicId() sets it later. */
  topicId: string;
  config: LogConfig;
  /**
   * Default true. False when `config` is only the broker's defaults (a log found on disk at
   * start, before the controller told us its topic's config): until updateConfig() gives it
   * the real one, nothing is deleted by retention, because the defaults may keep far less than
   * the topic does (a retention.ms=-1 topic would lose everything but its active segment).
   */
  configured?: boolean;
  logger: Logger;
  now?: () => number;
  /** Validate the log from the recovery point: the broker did not shut down cleanly. */
  recover: boolean;
}

/** Kafka's producer.id.expiration.ms default: producer state of an idle producer is kept this long. */
export const PRODUCER_ID_EXPIRATION_MS = 24 * 60 * 60 * 1000;
const INT32_MAX = 0x7fffffff;
const OFFSETS_CHECKPOINT_VERSION = 0;
const EMPTY = Buffer.alloc(0);

interface PendingAppend {
  leader: boolean;
  buf: Buffer;
  headers: BatchHeader[];
  /** Offsets the request takes when written (leader: sum of batch sizes; follower: from headers). */
  offsetCount: number;
  leaderEpoch: number;
  resolve: (result: AppendResult) => void;
  reject: (err: unknown) => void;
}

interface PreparedAppend {
  req: PendingAppend;
  result: Omit<AppendResult, 'logStartOffset'>;
  /** Epoch entries to assign once the bytes are written. */
  epochs: EpochEntry[];
}

interface OffsetsCheckpoint {
  highWatermark: number;
  logStartOffset: number;
  recoveryPoint: number;
}

/** Reads the topic id stored in a partition directory; null when missing or unreadable. */
export async function readPartitionMetadata(dir: string): Promise<string | null> {
  let text: string;
  try {
    text = await readFile(join(dir, PARTITION_METADATA_FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const match = /^version: 0\ntopic_id: ([A-Za-z0-9_-]{1,64})\n?$/.exec(text);
  return match === null ? null : match[1]!;
}

/**
 * Renames a log directory out of the way, then removes it: a crash in between leaves only a
 * `-delete` directory (removed at the next start), never half a log that would load as one.
 */
export async function removeLogDir(dir: string): Promise<void> {
  const doomed = `${dir}.${Math.random().toString(16).slice(2, 10)}${DELETE_DIR_SUFFIX}`;
  try {
    await rename(dir, doomed);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  await rm(doomed, { recursive: true, force: true });
}

async function writePartitionMetadata(dir: string, topicId: string): Promise<void> {
  await writeFileAtomically(join(dir, PARTITION_METADATA_FILE), `version: 0\ntopic_id: ${topicId}\n`);
}

export class PartitionLog {
  readonly topic: string;
  readonly partition: number;
  readonly dir: string;
  readonly leaderEpochs: LeaderEpochCache;

  #topicId: string;
  #config: LogConfig;
  #configured: boolean;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #details: ErrorDetails;
  /** Replaced, never mutated in place, so a reader iterating a snapshot is never disturbed. */
  #segments: LogSegment[];
  #logStartOffset: number;
  #highWatermark: number;
  /** Every offset below it is fsynced and indexed on disk; unclean recovery starts here. */
  #recoveryPoint: number;
  readonly #producers = new ProducerStateManager();
  readonly #snapshots: ProducerSnapshots;
  readonly #offsetsCheckpoint: CheckpointFile;
  #lastCheckpoint = '';

  #queue: PendingAppend[] = [];
  #drainScheduled = false;
  /** Appends, truncation, retention and close, one at a time. */
  #writeChain: Promise<void> = Promise.resolve();
  /** Seals of rolled segments, fsyncs and snapshot writes, in order, off the append path. */
  #durabilityChain: Promise<void> = Promise.resolve();
  #unflushedMessages = 0;
  #firstUnflushedAt: number | null = null;
  #closing: Promise<void> | null = null;
  #closed = false;

  private constructor(dir: string, opts: PartitionLogOptions, segments: LogSegment[]) {
    this.topic = opts.topic;
    this.partition = opts.partition;
    this.dir = dir;
    this.#topicId = opts.topicId;
    this.#config = validateLogConfig({ ...opts.config });
    this.#configured = opts.configured ?? true;
    this.#logger = opts.logger.child({ topic: opts.topic, partition: opts.partition });
    this.#now = opts.now ?? Date.now;
    this.#details = { topic: opts.topic, partition: opts.partition };
    this.#segments = segments;
    this.#logStartOffset = segments[0]!.baseOffset;
    this.#highWatermark = this.#logStartOffset;
    this.#recoveryPoint = this.#logStartOffset;
    this.#snapshots = new ProducerSnapshots(dir, this.#logger);
    this.#offsetsCheckpoint = new CheckpointFile(join(dir, OFFSETS_CHECKPOINT_FILE), OFFSETS_CHECKPOINT_VERSION);
    this.leaderEpochs = new LeaderEpochCache({
      file: leaderEpochCheckpointFile(join(dir, LEADER_EPOCH_CHECKPOINT_FILE)),
      logEndOffset: () => this.logEndOffset,
      logger: this.#logger,
    });
  }

  static async open(dir: string, opts: PartitionLogOptions): Promise<PartitionLog> {
    const logger = opts.logger.child({ topic: opts.topic, partition: opts.partition });
    const now = opts.now ?? Date.now;
    const config = validateLogConfig({ ...opts.config });
    await mkdir(dir, { recursive: true });

    let topicId = opts.topicId;
    const storedTopicId = await readPartitionMetadata(dir).catch((err: unknown) => {
      logger.warn({ err }, 'cannot read partition.metadata');
      return null;
    });
    if (storedTopicId !== null && topicId !== '' && storedTopicId !== topicId) {
      throw new SluiceError('INVALID_REQUEST', `${dir} holds topic id ${storedTopicId}, not ${topicId}; the topic was deleted and re-created, so delete the old log first`, { topic: opts.topic, partition: opts.partition });
    }
    if (storedTopicId === null && topicId !== '') await writePartitionMetadata(dir, topicId);
    if (topicId === '') topicId = storedTopicId ?? '';

    const offsetsFile = new CheckpointFile(join(dir, OFFSETS_CHECKPOINT_FILE), OFFSETS_CHECKPOINT_VERSION);
    const checkpoint = await readOffsetsCheckpoint(offsetsFile).catch((err: unknown) => {
      // Without it recovery starts from the beginning and the HW from the log start: slower, never wrong.
      logger.warn({ err }, 'offsets checkpoint is unreadable; recovering the whole log');
      return null;
    });
    const epochFile = leaderEpochCheckpointFile(join(dir, LEADER_EPOCH_CHECKPOINT_FILE));
    const storedEpochs = await LeaderEpochCache.readCheckpoint(epochFile).catch((err: unknown) => {
      logger.warn({ err }, 'leader epoch checkpoint is unreadable; rebuilding it from the log');
      return null;
    });

    const recover = opts.recover || checkpoint === null;
    const recoveredEpochs: EpochEntry[] = [];
    const loaded = await loadSegments({
      dir,
      logger,
      recover,
      recoveryPoint: checkpoint?.recoveryPoint ?? 0,
      logStartOffset: checkpoint?.logStartOffset ?? 0,
      indexIntervalBytes: config.indexIntervalBytes,
      onRecoveredBatch: (h) => {
        const last = recoveredEpochs.at(-1);
        if (h.partitionLeaderEpoch >= 0 && (last === undefined || h.partitionLeaderEpoch > last.epoch)) {
          recoveredEpochs.push({ epoch: h.partitionLeaderEpoch, startOffset: h.baseOffset });
        }
      },
    });

    const log = new PartitionLog(dir, { ...opts, topicId, config, now }, loaded.segments);
    try {
      await log.#finishLoading(checkpoint, storedEpochs, recoveredEpochs, loaded.recoveredFrom, recover);
    } catch (err) {
      // Loading failed after the segments were opened: release their descriptors.
      for (const segment of loaded.segments) await segment.close().catch(() => undefined);
      throw err;
    }
    log.#logger.info(
      { logStartOffset: log.#logStartOffset, logEndOffset: log.logEndOffset, highWatermark: log.#highWatermark, segments: log.#segments.length, recovered: recover, truncated: loaded.truncated },
      'partition log loaded',
    );
    return log;
  }

  /** Log start, epochs, producer state, HW and recovery point of a log whose segments just loaded. */
  async #finishLoading(
    checkpoint: OffsetsCheckpoint | null,
    storedEpochs: EpochEntry[] | null,
    recoveredEpochs: EpochEntry[],
    recoveredFrom: number | null,
    recover: boolean,
  ): Promise<void> {
    const leo = this.logEndOffset;
    this.#logStartOffset = Math.min(Math.max(checkpoint?.logStartOffset ?? 0, this.#segments[0]!.baseOffset), leo);

    // Leader epochs: the checkpoint, then what recovery saw in the batches it validated; with
    // no usable checkpoint, every batch header of the log (the epochs decide truncation on
    // failover, so they are rebuilt, never guessed).
    let epochs = storedEpochs;
    if (epochs === null && leo > this.#logStartOffset && recoveredFrom !== this.#segments[0]!.baseOffset) {
      const rebuilt: EpochEntry[] = [];
      await this.#scanHeaders(this.#logStartOffset, (h) => {
        const last = rebuilt.at(-1);
        if (h.partitionLeaderEpoch >= 0 && (last === undefined || h.partitionLeaderEpoch > last.epoch)) {
          rebuilt.push({ epoch: h.partitionLeaderEpoch, startOffset: h.baseOffset });
        }
      });
      epochs = rebuilt;
    }
    this.leaderEpochs.reset(epochs ?? []);
    this.leaderEpochs.truncateFromEnd(leo);
    // Only epochs newer than the checkpoint's latest (Kafka's LogSegment.recover rule): an
    // older epoch seen mid-recovery started before the recovery point, and assigning it at
    // that later offset would erase its true start.
    for (const e of recoveredEpochs) if (e.epoch > this.leaderEpochs.latestEpoch()) this.leaderEpochs.assign(e.epoch, e.startOffset);
    this.leaderEpochs.truncateFromStart(this.#logStartOffset);

    await this.#rebuildProducerState(leo);

    const active = this.#activeSegment;
    if (!active.isEmpty) {
      const first = await active.firstBatchMaxTimestamp();
      active.rollStartMs = first !== null && first >= 0 ? first : this.#now();
    }
    this.#highWatermark = Math.min(Math.max(checkpoint?.highWatermark ?? 0, this.#logStartOffset), leo);
    this.#recoveryPoint = Math.min(checkpoint?.recoveryPoint ?? 0, leo);
    try {
      if (recover) {
        // What recovery validated is made durable before the recovery point moves past it,
        // and the indexes it rebuilt go to disk so that later starts can trust them.
        for (const segment of this.#segments) {
          if (recoveredFrom !== null && segment.baseOffset >= recoveredFrom) {
            await segment.flush();
            if (segment !== active) await segment.writeIndexes();
          }
        }
        this.#recoveryPoint = leo;
      }
      await this.leaderEpochs.flush();
      await this.checkpoint();
    } catch (err) {
      // The log itself is sound and every file here is re-derived from it at the next load;
      // a lower recovery point only means more work after a crash.
      this.#logger.warn({ err }, 'cannot persist the loaded state; the next start will derive it again');
    }
  }

  // -------------------------------------------------------------------------------------------
  // State

  get topicId(): string {
    return this.#topicId;
  }

  /** Records the topic id of a log whose partition.metadata was missing or damaged. */
  async assignTopicId(topicId: string): Promise<void> {
    await writePartitionMetadata(this.dir, topicId);
    this.#topicId = topicId;
  }

  get config(): LogConfig {
    return this.#config;
  }

  /** Whether the log has its topic's config (see PartitionLogOptions.configured). */
  get configured(): boolean {
    return this.#configured;
  }

  get logStartOffset(): number {
    return this.#logStartOffset;
  }

  get logEndOffset(): number {
    return this.#activeSegment.nextOffset;
  }

  get highWatermark(): number {
    return this.#highWatermark;
  }

  get recoveryPoint(): number {
    return this.#recoveryPoint;
  }

  get segmentCount(): number {
    return this.#segments.length;
  }

  /** Base offsets of the segments, oldest first. */
  segmentBaseOffsets(): number[] {
    return this.#segments.map((s) => s.baseOffset);
  }

  /**
   * The replica layer owns the HW rule; the log only keeps it inside [logStartOffset,
   * logEndOffset] (as Kafka's updateHighWatermark does) and checkpoints it.
   */
  setHighWatermark(hw: number): void {
    this.#highWatermark = Math.min(Math.max(hw, this.#logStartOffset), this.logEndOffset);
  }

  updateConfig(config: LogConfig): void {
    this.#config = validateLogConfig({ ...config });
    this.#configured = true;
    for (const segment of this.#segments) segment.indexIntervalBytes = this.#config.indexIntervalBytes;
  }

  sizeInBytes(): number {
    let size = 0;
    for (const segment of this.#segments) size += segment.size;
    return size;
  }

  /** The producer state entry of a producer id (for tests and diagnostics). */
  producerState(producerId: number): ProducerEntry | undefined {
    return this.#producers.get(producerId);
  }

  get #activeSegment(): LogSegment {
    return this.#segments.at(-1)!;
  }

  // -------------------------------------------------------------------------------------------
  // Append

  appendAsLeader(batches: Buffer, leaderEpoch: number): Promise<AppendResult> {
    try {
      this.#checkOpen();
      if (!Number.isSafeInteger(leaderEpoch) || leaderEpoch < 0 || leaderEpoch > INT32_MAX) {
        throw new SluiceError('INVALID_REQUEST', `leader epoch ${leaderEpoch} is not an int32 >= 0`, this.#details);
      }
      const headers = this.#validate(batches, this.#config.maxMessageBytes, true);
      if (batches.length > this.#config.segmentBytes) {
        throw new SluiceError('MESSAGE_TOO_LARGE', `the produced record set is ${batches.length} bytes, more than segment.bytes (${this.#config.segmentBytes}); send smaller requests or raise segment.bytes`, this.#details);
      }
      let offsetCount = 0;
      for (const h of headers) offsetCount += h.lastOffsetDelta + 1;
      return this.#enqueue({ leader: true, buf: batches, headers, offsetCount, leaderEpoch });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  appendAsFollower(batches: Buffer): Promise<AppendResult> {
    try {
      this.#checkOpen();
      // The leader enforced max.message.bytes when it accepted these; a follower must take
      // whatever the leader has, even if the limit has since been lowered.
      const headers = this.#validate(batches, INT32_MAX, false);
      if (headers.length === 0) {
        const leo = this.logEndOffset;
        return Promise.resolve({ baseOffset: leo, lastOffset: leo - 1, maxTimestamp: -1, duplicate: false, logStartOffset: this.#logStartOffset });
      }
      const offsetCount = headers.at(-1)!.lastOffset - headers[0]!.baseOffset + 1;
      return this.#enqueue({ leader: false, buf: batches, headers, offsetCount, leaderEpoch: -1 });
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #checkOpen(): void {
    if (this.#closing !== null) throw new SluiceError('CLOSED', `the log of ${this.topic}-${this.partition} is closed`, this.#details);
  }

  #validate(batches: Buffer, maxBatchBytes: number, fromProducer: boolean): BatchHeader[] {
    try {
      const headers = validateBatches(batches, maxBatchBytes, { fromProducer });
      // The leader checks the records too (Kafka's LogValidator): the CRC only proves these are
      // the producer's bytes, not that a consumer can decode them. Followers copy what a leader
      // already checked, and must take it whatever this broker's version would say.
      if (fromProducer) validateProducerBatches(batches, headers);
      return headers;
    } catch (err) {
      if (isSluiceError(err)) throw new SluiceError(err.code, err.message, { ...err.details, ...this.#details }, { cause: err });
      throw err;
    }
  }

  #enqueue(fields: Omit<PendingAppend, 'resolve' | 'reject'>): Promise<AppendResult> {
    return new Promise<AppendResult>((resolve, reject) => {
      this.#queue.push({ ...fields, resolve, reject });
      if (!this.#drainScheduled) {
        this.#drainScheduled = true;
        void this.#serially(() => this.#drain());
      }
    });
  }

  /** Runs `task` after every earlier append group, truncation, retention pass or close. */
  #serially<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#writeChain.then(task);
    this.#writeChain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  /** #serially for public operations: I/O failures surface as STORAGE_ERROR with topic/partition. */
  #public<T>(task: () => Promise<T>): Promise<T> {
    return this.#serially(task).catch((err: unknown) => {
      throw this.#storageError(err);
    });
  }

  /** Runs `task` after every earlier seal, flush and snapshot write. */
  #durably<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#durabilityChain.then(task);
    this.#durabilityChain = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async #drain(): Promise<void> {
    this.#drainScheduled = false;
    const group = this.#queue;
    this.#queue = [];
    try {
      await this.#writeGroup(group);
    } catch (err) {
      // Not expected (writeGroup settles its requests), but a request must never hang.
      this.#logger.error({ err }, 'append group failed unexpectedly');
      const failure = this.#storageError(err);
      for (const req of group) req.reject(failure);
    }
  }

  #storageError(err: unknown): SluiceError {
    if (isSluiceError(err)) return err;
    const code = (err as NodeJS.ErrnoException).code;
    return new SluiceError(
      'STORAGE_ERROR',
      `cannot write to the log of ${this.topic}-${this.partition}: ${(err as Error).message}${code === 'ENOSPC' ? '; the disk is full, free space or lower retention' : ''}`,
      this.#details,
      { cause: err },
    );
  }

  /**
   * One group commit. Requests are taken in arrival order; a request that fails validation is
   * rejected alone. Whenever the active segment must roll, the requests gathered so far are
   * written first. A failed write fails its sub-group and everything after it in the group
   * (their offsets were computed on top of it), and leaves the log exactly as before.
   */
  async #writeGroup(group: PendingAppend[]): Promise<void> {
    if (this.#closed) {
      const closed = new SluiceError('CLOSED', `the log of ${this.topic}-${this.partition} is closed`, this.#details);
      for (const req of group) req.reject(closed);
      return;
    }
    let prepared: PreparedAppend[] = [];
    let buffers: Buffer[] = [];
    let bytes = 0;
    let nextOffset = this.logEndOffset;
    // Producer entries as updated by the requests prepared so far but not yet written.
    let overlay = new Map<number, ProducerEntry>();
    let latestEpoch = this.leaderEpochs.latestEpoch();

    const writePending = async (from: number): Promise<boolean> => {
      const ok = await this.#commit(prepared, buffers, bytes, overlay);
      if (!ok.success) {
        for (const req of group.slice(from)) req.reject(ok.error);
        return false;
      }
      prepared = [];
      buffers = [];
      bytes = 0;
      overlay = new Map();
      return true;
    };

    for (let i = 0; i < group.length; i++) {
      const req = group[i]!;
      const lastOffset = req.leader ? nextOffset + req.offsetCount - 1 : req.headers.at(-1)!.lastOffset;
      if (this.#shouldRoll(bytes, req.buf.length, lastOffset)) {
        if (prepared.length > 0 && !(await writePending(i))) return;
        try {
          await this.#roll();
        } catch (err) {
          this.#logger.error({ err }, 'cannot roll to a new segment');
          const failure = this.#storageError(err);
          for (const r of group.slice(i)) r.reject(failure);
          return;
        }
      }
      let p: PreparedAppend;
      try {
        p = req.leader ? this.#prepareLeader(req, nextOffset, overlay, latestEpoch) : this.#prepareFollower(req, nextOffset, overlay);
      } catch (err) {
        req.reject(err);
        continue;
      }
      prepared.push(p);
      if (!p.result.duplicate) {
        buffers.push(req.buf);
        bytes += req.buf.length;
        nextOffset = p.result.lastOffset + 1;
        const lastEpoch = p.epochs.at(-1)?.epoch;
        if (lastEpoch !== undefined && lastEpoch > latestEpoch) latestEpoch = lastEpoch;
      }
    }
    if (prepared.length > 0) await writePending(group.length);
  }

  #shouldRoll(pendingBytes: number, requestBytes: number, lastOffset: number): boolean {
    const active = this.#activeSegment;
    const size = active.size + pendingBytes;
    // An empty segment takes any request: rolling it would only create another empty one.
    if (size === 0) return false;
    if (size + requestBytes > this.#config.segmentBytes || size + requestBytes > INT32_MAX) return true;
    if (active.rollStartMs !== null && this.#now() - active.rollStartMs > this.#config.segmentMs) return true;
    return !active.canHoldOffset(lastOffset);
  }

  /**
   * Validates idempotence, then stamps offsets and the leader epoch into the batches in place
   * (the CRC does not cover them, so nothing is re-encoded). A duplicate anywhere in the
   * request answers the whole request with the original offsets, as Kafka does.
   */
  #prepareLeader(req: PendingAppend, nextOffset: number, overlay: Map<number, ProducerEntry>, latestEpoch: number): PreparedAppend {
    if (req.leaderEpoch < latestEpoch) {
      throw new SluiceError('FENCED_LEADER_EPOCH', `append in leader epoch ${req.leaderEpoch}, but this log already has epoch ${latestEpoch}; this replica is no longer the leader`, { ...this.#details, leaderEpoch: latestEpoch });
    }
    const updates = new Map<number, ProducerEntry>();
    let offset = nextOffset;
    for (const h of req.headers) {
      if (h.producerId >= 0) {
        const entry = updates.get(h.producerId) ?? overlay.get(h.producerId) ?? this.#producers.get(h.producerId);
        const info = { ...h, baseOffset: offset, lastOffset: offset + h.lastOffsetDelta };
        const duplicate = checkLeaderBatch(entry, info, this.#details);
        if (duplicate !== null) {
          return { req, epochs: [], result: { baseOffset: duplicate.firstOffset, lastOffset: duplicate.lastOffset, maxTimestamp: duplicate.maxTimestamp, duplicate: true } };
        }
        updates.set(h.producerId, withBatch(entry, info));
      }
      offset += h.lastOffsetDelta + 1;
    }
    let position = 0;
    let maxTimestamp = -1;
    offset = nextOffset;
    for (const h of req.headers) {
      stampBatch(req.buf, position, offset, req.leaderEpoch);
      h.baseOffset = offset;
      h.lastOffset = offset + h.lastOffsetDelta;
      h.partitionLeaderEpoch = req.leaderEpoch;
      if (h.maxTimestamp > maxTimestamp) maxTimestamp = h.maxTimestamp;
      position += h.sizeInBytes;
      offset = h.lastOffset + 1;
    }
    for (const [pid, entry] of updates) overlay.set(pid, entry);
    return {
      req,
      epochs: req.leaderEpoch > latestEpoch ? [{ epoch: req.leaderEpoch, startOffset: nextOffset }] : [],
      result: { baseOffset: nextOffset, lastOffset: offset - 1, maxTimestamp, duplicate: false },
    };
  }

  /** Followers copy the leader's bytes: offsets must continue this log exactly. */
  #prepareFollower(req: PendingAppend, nextOffset: number, overlay: Map<number, ProducerEntry>): PreparedAppend {
    let expected = nextOffset;
    let maxTimestamp = -1;
    const epochs: EpochEntry[] = [];
    for (const h of req.headers) {
      // Offsets are contiguous in this log (no compaction yet); a gap or overlap means the
      // replica fetched from the wrong place, and writing it would give offsets two records.
      if (h.baseOffset !== expected) {
        throw new SluiceError('INVALID_REQUEST', `follower append has a batch at offset ${h.baseOffset}, but the log continues at ${expected}`, { ...this.#details, logStartOffset: this.#logStartOffset, logEndOffset: this.logEndOffset });
      }
      expected = h.lastOffset + 1;
      if (h.maxTimestamp > maxTimestamp) maxTimestamp = h.maxTimestamp;
      if (h.partitionLeaderEpoch >= 0 && h.partitionLeaderEpoch !== (epochs.at(-1)?.epoch ?? -1)) {
        epochs.push({ epoch: h.partitionLeaderEpoch, startOffset: h.baseOffset });
      }
    }
    for (const h of req.headers) {
      if (h.producerId >= 0) overlay.set(h.producerId, withBatch(overlay.get(h.producerId) ?? this.#producers.get(h.producerId), h));
    }
    return { req, epochs, result: { baseOffset: req.headers[0]!.baseOffset, lastOffset: expected - 1, maxTimestamp, duplicate: false } };
  }

  /** Writes a prepared sub-group to the active segment and, only if that worked, publishes it. */
  async #commit(
    prepared: PreparedAppend[],
    buffers: Buffer[],
    bytes: number,
    overlay: Map<number, ProducerEntry>,
  ): Promise<{ success: true } | { success: false; error: SluiceError }> {
    const segment = this.#activeSegment;
    const position = segment.size;
    if (bytes > 0) {
      try {
        await segment.write(buffers, bytes);
      } catch (err) {
        const error = this.#storageError(err);
        this.#logger.error({ err, bytes, logEndOffset: this.logEndOffset }, 'append failed; the log is unchanged');
        for (const p of prepared) p.req.reject(error);
        return { success: false, error };
      }
    }
    const now = this.#now();
    let pos = position;
    let messages = 0;
    let epochChanged = false;
    for (const p of prepared) {
      if (p.result.duplicate) continue;
      for (const h of p.req.headers) {
        segment.recordAppended(h, pos, this.#config.indexIntervalBytes);
        pos += h.sizeInBytes;
        messages += h.recordsCount;
      }
      for (const e of p.epochs) {
        const before = this.leaderEpochs.latestEpoch();
        this.leaderEpochs.assign(e.epoch, e.startOffset);
        if (this.leaderEpochs.latestEpoch() !== before) epochChanged = true;
      }
    }
    segment.size = position + bytes;
    if (bytes > 0 && segment.rollStartMs === null) segment.rollStartMs = now;
    for (const entry of overlay.values()) this.#producers.set(entry);

    if (messages > 0) {
      this.#unflushedMessages += messages;
      this.#firstUnflushedAt ??= now;
    }
    try {
      // A new epoch's start offset must be durable: followers truncate by it after a failover.
      if (epochChanged) await this.leaderEpochs.flush();
      // flush.messages promises durability before the acknowledgement.
      if (messages > 0 && this.#unflushedMessages >= this.#config.flushMessages) await this.flush();
    } catch (err) {
      // The bytes are in the log (LEO moved), but the durability asked for is not there, so
      // the producer must not count them as acknowledged; an idempotent retry is deduplicated.
      const error = this.#storageError(err);
      for (const p of prepared) p.req.reject(error);
      return { success: true };
    }
    const logStartOffset = this.#logStartOffset;
    for (const p of prepared) p.req.resolve({ ...p.result, logStartOffset });
    return { success: true };
  }

  /**
   * Starts a new active segment at the log end offset. The old one is sealed (fsync, index
   * files) and the producer snapshot written off the append path, then the recovery point
   * moves to the new base: appends never wait for a segment-sized fsync.
   */
  async #roll(): Promise<void> {
    const old = this.#activeSegment;
    const base = old.nextOffset;
    const segment = await LogSegment.create(this.dir, base, this.#logger);
    segment.indexIntervalBytes = this.#config.indexIntervalBytes;
    this.#segments = [...this.#segments, segment];
    const producers = this.#producers.entries();
    this.#logger.info({ baseOffset: base, previousSize: old.size }, 'rolled to a new segment');
    this.#durably(async () => {
      await old.seal();
      await this.#snapshots.write(base, producers);
      if (base > this.#recoveryPoint) this.#recoveryPoint = base;
      await this.checkpoint();
    }).catch((err: unknown) => this.#logger.error({ err, segment: old.logPath }, 'cannot seal rolled segment; it will be recovered after a crash'));
  }

  // -------------------------------------------------------------------------------------------
  // Read

  read(offset: number, opts: { maxBytes: number; maxOffset?: number }): Promise<Buffer> {
    return this.#read(offset, opts, 0);
  }

  async #read(offset: number, opts: { maxBytes: number; maxOffset?: number }, attempt: number): Promise<Buffer> {
    this.#checkOpen();
    const segments = this.#segments;
    const logStartOffset = this.#logStartOffset;
    const logEndOffset = this.logEndOffset;
    if (!Number.isSafeInteger(offset) || offset < logStartOffset || offset > logEndOffset) {
      throw new SluiceError(
        'OFFSET_OUT_OF_RANGE',
        `fetch offset ${offset} is outside the log [${logStartOffset}, ${logEndOffset}] of ${this.topic}-${this.partition}; seek to an offset in that range`,
        { ...this.#details, logStartOffset, logEndOffset },
      );
    }
    const limit = Math.min(opts.maxOffset ?? logEndOffset, logEndOffset);
    if (offset >= limit) return EMPTY;
    const maxBytes = Number.isFinite(opts.maxBytes) ? Math.max(0, Math.floor(opts.maxBytes)) : 0;
    try {
      for (let i = floorSegmentIndex(segments, offset); i < segments.length; i++) {
        const segment = segments[i]!;
        if (segment.baseOffset >= limit) break;
        if (!segment.acquire()) throw new SluiceError('CLOSED', `segment ${segment.logPath} was removed`);
        try {
          const buf = await segment.read(offset, maxBytes, limit);
          if (buf.length > 0) return buf;
        } finally {
          segment.release();
        }
      }
      return EMPTY;
    } catch (err) {
      // Retention or truncation removed the segment while this read was on its way; the
      // retry sees the new bounds (and answers OFFSET_OUT_OF_RANGE if the offset went with it).
      if (isSluiceError(err, 'CLOSED') && this.#closing === null && attempt < 3) return this.#read(offset, opts, attempt + 1);
      throw this.#damagedLog(err, `offset ${offset}`);
    }
  }

  /**
   * A read that hit damage on disk (a segment loaded without recovery is not validated up
   * front) fails with CORRUPT_MESSAGE naming the partition and the spot, and is logged loudly;
   * other errors pass through.
   */
  #damagedLog(err: unknown, what: string): unknown {
    if (!isSluiceError(err, 'CORRUPT_MESSAGE')) return err;
    this.#logger.error({ err }, 'cannot read a damaged log');
    return new SluiceError('CORRUPT_MESSAGE', `the log of ${this.topic}-${this.partition} cannot serve ${what} from this replica: ${err.message}`, this.#details, { cause: err });
  }

  /**
   * First record with timestamp >= ts at or above the log start (exact record offset), or null
   * when there is none below maxOffset (default: the log end; consumers pass the HW).
   */
  async offsetForTimestamp(ts: number, opts: { maxOffset?: number } = {}): Promise<{ offset: number; timestamp: number } | null> {
    this.#checkOpen();
    const segments = this.#segments;
    const logStartOffset = this.#logStartOffset;
    const limit = Math.min(opts.maxOffset ?? this.logEndOffset, this.logEndOffset);
    for (const segment of segments) {
      if (segment.nextOffset <= logStartOffset) continue;
      if (segment.baseOffset >= limit) break;
      if (!segment.acquire()) continue;
      try {
        const found = await segment.findOffsetByTimestamp(ts, logStartOffset);
        if (found !== null) return found.offset < limit ? found : null;
      } catch (err) {
        throw this.#damagedLog(err, `the offset for timestamp ${ts}`);
      } finally {
        segment.release();
      }
    }
    return null;
  }

  /** Visits batch headers from the batch holding `fromOffset` to the log end (no record decoding). */
  async #scanHeaders(fromOffset: number, visit: (header: BatchHeader) => void): Promise<void> {
    const segments = this.#segments;
    for (let i = floorSegmentIndex(segments, fromOffset); i < segments.length; i++) {
      const segment = segments[i]!;
      if (segment.nextOffset <= fromOffset) continue;
      await segment.ensureIndexes();
      const start = segment.offsetIndex.lookup(fromOffset).position;
      const result = await segment.scan(start, segment.size, { validate: false }, (h) => {
        if (h.lastOffset >= fromOffset) visit(h);
      });
      if (result.error !== null) throw result.error;
    }
  }

  /**
   * Producer state at `endOffset`: the newest readable snapshot at or below it, then batch
   * headers replayed from there (snapshots above it describe a history that was truncated).
   */
  async #rebuildProducerState(endOffset: number): Promise<void> {
    await this.#snapshots.deleteAbove(endOffset);
    const snapshot = await this.#snapshots.loadNewest(endOffset);
    this.#producers.replaceWith(snapshot?.entries ?? []);
    const from = Math.max(snapshot?.offset ?? this.#logStartOffset, this.#logStartOffset);
    if (from < endOffset) await this.#scanHeaders(from, (h) => this.#producers.update(h));
  }

  // -------------------------------------------------------------------------------------------
  // Truncation, retention, durability

  /**
   * Drops every batch from the one holding `offset` on (a batch is never split, so the log
   * end may end up below `offset`), with epochs, producer state and HW following. Used by
   * replication when a follower's log diverged from the leader's.
   */
  truncateTo(offset: number): Promise<void> {
    return this.#public(async () => {
      this.#checkOpen();
      if (!Number.isSafeInteger(offset) || offset < 0) throw new SluiceError('INVALID_REQUEST', `cannot truncate to offset ${offset}`, this.#details);
      if (offset >= this.logEndOffset) {
        // No records to drop, but an epoch may have been assigned at or after `offset` (a leader
        // elected here that wrote nothing yet): Kafka drops those entries too, or this replica
        // would later answer a follower's epoch query with an end offset its log never reached.
        this.leaderEpochs.truncateFromEnd(offset);
        await this.leaderEpochs.flush();
        return;
      }
      // A seal still in flight would write index files of a segment that is being cut.
      await this.#durabilityChain;
      if (offset < this.#segments[0]!.baseOffset) {
        await this.#truncateFullyAndStartAt(offset);
        return;
      }
      const before = this.logEndOffset;
      const keep = this.#segments.filter((s) => s.baseOffset <= offset);
      const drop = this.#segments.filter((s) => s.baseOffset > offset);
      this.#segments = keep;
      for (const s of drop) await s.delete();
      const active = this.#activeSegment;
      await active.truncateTo(offset);
      if (!active.isEmpty && active.rollStartMs === null) active.rollStartMs = this.#now();
      const leo = this.logEndOffset;
      this.leaderEpochs.truncateFromEnd(leo);
      if (this.#logStartOffset > leo) this.#logStartOffset = leo;
      this.#highWatermark = Math.min(this.#highWatermark, leo);
      this.#recoveryPoint = Math.min(this.#recoveryPoint, leo);
      await this.#rebuildProducerState(leo);
      await this.leaderEpochs.flush();
      await this.checkpoint();
      this.#logger.info({ requested: offset, from: before, to: leo }, 'truncated log');
    });
  }

  /** Replaces the whole log with an empty one starting at `offset` (a follower whose log is entirely below the leader's log start). */
  truncateFullyAndStartAt(offset: number): Promise<void> {
    return this.#public(async () => {
      this.#checkOpen();
      if (!Number.isSafeInteger(offset) || offset < 0) throw new SluiceError('INVALID_REQUEST', `cannot restart the log at offset ${offset}`, this.#details);
      await this.#durabilityChain;
      await this.#truncateFullyAndStartAt(offset);
    });
  }

  async #truncateFullyAndStartAt(offset: number): Promise<void> {
    const old = this.#segments;
    const before = this.logEndOffset;
    const segment = await LogSegment.create(this.dir, offset, this.#logger);
    segment.indexIntervalBytes = this.#config.indexIntervalBytes;
    this.#segments = [segment];
    // A segment with the same base had its file replaced by create(); only its handle is left.
    for (const s of old) await (s.baseOffset === offset ? s.close() : s.delete());
    this.#logStartOffset = offset;
    this.#highWatermark = offset;
    this.#recoveryPoint = offset;
    this.leaderEpochs.reset([]);
    this.#producers.clear();
    await this.#snapshots.deleteAbove(-1);
    this.#unflushedMessages = 0;
    this.#firstUnflushedAt = null;
    await this.leaderEpochs.flush();
    await this.checkpoint();
    this.#logger.info({ from: before, startOffset: offset }, 'replaced the log with an empty one');
  }

  /**
   * Deletes the oldest segments past retention.ms (by their newest record) or while the log
   * exceeds retention.bytes. Never the active segment and never one holding an offset at or
   * above the HW: consumers have not been allowed to read it yet. Nothing while the log does
   * not have its topic's config yet (see PartitionLogOptions.configured). Returns segments deleted.
   */
  enforceRetention(): Promise<number> {
    return this.#public(async () => {
      if (this.#closing !== null) return 0;
      const now = this.#now();
      if (!this.#configured) {
        // Producer state expiry depends on no topic setting, so it still runs.
        const expired = this.#producers.removeExpired(now, PRODUCER_ID_EXPIRATION_MS);
        if (expired > 0) this.#logger.info({ producers: expired }, 'expired idle producer state');
        this.#logger.debug('retention skipped: the topic config of this log has not arrived yet');
        return 0;
      }
      const segments = this.#segments;
      const hw = this.#highWatermark;
      const eligible = (i: number): boolean => i < segments.length - 1 && segments[i + 1]!.baseOffset <= hw;
      let byTime = 0;
      if (this.#config.retentionMs >= 0) {
        while (eligible(byTime)) {
          const segment = segments[byTime]!;
          await segment.ensureIndexes();
          const newest = segment.maxTimestamp >= 0 ? segment.maxTimestamp : await segment.lastModifiedMs();
          if (now - newest <= this.#config.retentionMs) break;
          byTime++;
        }
      }
      let bySize = 0;
      if (this.#config.retentionBytes >= 0) {
        let excess = this.sizeInBytes() - this.#config.retentionBytes;
        while (eligible(bySize) && excess - segments[bySize]!.size >= 0) {
          excess -= segments[bySize]!.size;
          bySize++;
        }
      }
      const count = Math.max(byTime, bySize);
      const expired = this.#producers.removeExpired(now, PRODUCER_ID_EXPIRATION_MS);
      if (expired > 0) this.#logger.info({ producers: expired }, 'expired idle producer state');
      if (count === 0) return 0;
      // A seal still in flight would write index files of a segment being deleted.
      await this.#durabilityChain;
      const removed = segments.slice(0, count);
      this.#segments = segments.slice(count);
      this.#logStartOffset = Math.max(this.#logStartOffset, this.#segments[0]!.baseOffset);
      this.leaderEpochs.truncateFromStart(this.#logStartOffset);
      for (const s of removed) await s.delete();
      await this.#snapshots.deleteBelow(this.#logStartOffset);
      await this.checkpoint();
      this.#logger.info({ segments: count, byTime, bySize, logStartOffset: this.#logStartOffset }, 'deleted segments past retention');
      return count;
    });
  }

  /** fsyncs everything appended so far and moves the recovery point to it. */
  flush(): Promise<void> {
    return this.#flush().catch((err: unknown) => {
      throw this.#storageError(err);
    });
  }

  #flush(): Promise<void> {
    return this.#durably(async () => {
      const leo = this.logEndOffset;
      const messages = this.#unflushedMessages;
      // Segments before the active one were fsynced by their seal, which ran earlier on this chain.
      await this.#activeSegment.flush();
      if (leo > this.#recoveryPoint) this.#recoveryPoint = leo;
      this.#unflushedMessages = Math.max(0, this.#unflushedMessages - messages);
      this.#firstUnflushedAt = this.#unflushedMessages === 0 ? null : this.#now();
    });
  }

  /** flush.ms: fsyncs when the oldest unflushed append is older than the setting. Returns whether it did. */
  async flushIfDue(): Promise<boolean> {
    if (this.#closing !== null || this.#firstUnflushedAt === null) return false;
    if (this.#now() - this.#firstUnflushedAt < this.#config.flushMs) return false;
    await this.flush();
    return true;
  }

  /** Writes the HW / log start / recovery point checkpoint if it changed since the last write. */
  async checkpoint(): Promise<void> {
    const entries = [`high-watermark ${this.#highWatermark}`, `log-start-offset ${this.#logStartOffset}`, `recovery-point ${this.#recoveryPoint}`];
    const key = entries.join('|');
    if (key === this.#lastCheckpoint) return;
    await this.#offsetsCheckpoint.write(entries);
    this.#lastCheckpoint = key;
  }

  /**
   * Clean close: waits for queued appends, then fsyncs, writes every index, a producer snapshot
   * at the log end and the checkpoints, so the next start needs no recovery.
   */
  close(): Promise<void> {
    this.#closing ??= this.#public(async () => {
      this.#closed = true;
      await this.#durabilityChain;
      const active = this.#activeSegment;
      try {
        await active.seal();
        for (const segment of this.#segments) await segment.writeIndexes();
        const leo = this.logEndOffset;
        await this.#snapshots.write(leo, this.#producers.entries());
        await this.#snapshots.deleteBetween(active.baseOffset, leo);
        await this.leaderEpochs.flush();
        this.#recoveryPoint = leo;
        await this.checkpoint();
      } finally {
        for (const segment of this.#segments) await segment.close();
      }
      this.#logger.info({ logEndOffset: this.logEndOffset, highWatermark: this.#highWatermark }, 'partition log closed');
    });
    return this.#closing;
  }

  /** Closes the log and removes its directory. */
  async delete(): Promise<void> {
    try {
      await this.close();
    } catch (err) {
      this.#logger.warn({ err }, 'close before delete failed; deleting anyway');
    }
    await removeLogDir(this.dir);
    this.#logger.info('partition log deleted');
  }
}

async function readOffsetsCheckpoint(file: CheckpointFile): Promise<OffsetsCheckpoint | null> {
  const entries = await file.read();
  if (entries === null) return null;
  const values = new Map<string, number>();
  for (const entry of entries) {
    const [key, value, extra] = entry.split(' ');
    if (key === undefined || extra !== undefined) throw corruptFile(file.path, `entry ${JSON.stringify(entry.slice(0, 60))}`);
    values.set(key, parseOffsetField(value, file.path, key));
  }
  const get = (key: string): number => {
    const v = values.get(key);
    if (v === undefined || v < 0) throw corruptFile(file.path, `${key} is missing or negative`);
    return v;
  };
  return { highWatermark: get('high-watermark'), logStartOffset: get('log-start-offset'), recoveryPoint: get('recovery-point') };
}

/** Index of the segment holding `offset` (the last one whose base is <= offset; 0 if none). */
function floorSegmentIndex(segments: readonly LogSegment[], offset: number): number {
  let lo = 0;
  let hi = segments.length - 1;
  let found = 0;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (segments[mid]!.baseOffset <= offset) {
      found = mid;
      lo = mid + 1;
    } else {
      hi = mid - 1;
    }
  }
  return found;
}
