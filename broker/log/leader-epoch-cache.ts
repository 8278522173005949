// Leader epoch -> first offset written in that epoch, persisted in `leader-epoch-checkpoint`.
// Replication truncates by these entries, never by the follower's HW (KIP-101: HW-based
// truncation loses committed data on a fast double failover). The rules mirror Kafka's
// LeaderEpochFileCache so that OffsetsForLeaderEpoch answers the way Kafka clients expect.
import type { Logger } from 'pino';
import { CheckpointFile, corruptFile, parseOffsetField } from './checkpoint-file.ts';

export const LEADER_EPOCH_CHECKPOINT_FILE = 'leader-epoch-checkpoint';
export const UNDEFINED_EPOCH = -1;
export const UNDEFINED_EPOCH_OFFSET = -1;
const CHECKPOINT_VERSION = 0;

export interface EpochEntry {
  epoch: number;
  startOffset: number;
}

export interface EpochEndOffset {
  epoch: number;
  endOffset: number;
}

export class LeaderEpochCache {
  // Sorted by epoch, and (an invariant assign keeps) by startOffset too.
  #entries: EpochEntry[];
  readonly #file: CheckpointFile | null;
  readonly #logEndOffset: () => number;
  readonly #logger: Logger;
  #lastWrite: Promise<void> = Promise.resolve();

  constructor(opts: { file: CheckpointFile | null; logEndOffset: () => number; logger: Logger; entries?: readonly EpochEntry[] }) {
    this.#file = opts.file;
    this.#logEndOffset = opts.logEndOffset;
    this.#logger = opts.logger;
    this.#entries = (opts.entries ?? []).map((e) => ({ ...e }));
  }

  /** Reads a checkpoint: null when the file is missing; throws STORAGE_ERROR when it is corrupt. */
  static async readCheckpoint(file: CheckpointFile): Promise<EpochEntry[] | null> {
    const lines = await file.read();
    if (lines === null) return null;
    const entries: EpochEntry[] = [];
    for (const line of lines) {
      const [epochField, offsetField, extra] = line.split(' ');
      if (extra !== undefined) throw corruptFile(file.path, `entry ${JSON.stringify(line.slice(0, 60))} has more than two fields`);
      const epoch = parseOffsetField(epochField, file.path, 'epoch');
      const startOffset = parseOffsetField(offsetField, file.path, 'start offset');
      const prev = entries.at(-1);
      if (epoch < 0 || startOffset < 0 || (prev !== undefined && (epoch <= prev.epoch || startOffset < prev.startOffset))) {
        throw corruptFile(file.path, `entry ${JSON.stringify(line)} is not after ${prev === undefined ? 'nothing' : `${prev.epoch} ${prev.startOffset}`}`);
      }
      entries.push({ epoch, startOffset });
    }
    return entries;
  }

  entries(): EpochEntry[] {
    return this.#entries.map((e) => ({ ...e }));
  }

  latestEntry(): EpochEntry | undefined {
    const last = this.#entries.at(-1);
    return last === undefined ? undefined : { ...last };
  }

  earliestEntry(): EpochEntry | undefined {
    const first = this.#entries[0];
    return first === undefined ? undefined : { ...first };
  }

  /** The newest epoch, or UNDEFINED_EPOCH (-1) when the log has none. */
  latestEpoch(): number {
    return this.#entries.at(-1)?.epoch ?? UNDEFINED_EPOCH;
  }

  /** The epoch whose range holds `offset`, or UNDEFINED_EPOCH when it precedes every entry. */
  epochForOffset(offset: number): number {
    let epoch = UNDEFINED_EPOCH;
    for (const e of this.#entries) {
      if (e.startOffset > offset) break;
      epoch = e.epoch;
    }
    return epoch;
  }

  /**
   * Records that `epoch` starts at `startOffset`. Re-assigning the latest epoch is a no-op unless
   * it moves the start earlier; an entry that is not monotonic removes the later entries it
   * contradicts (Kafka: maybeTruncateNonMonotonicEntries), since the log has been rewritten
   * from that point.
   */
  assign(epoch: number, startOffset: number): void {
    if (!Number.isSafeInteger(epoch) || epoch < 0 || !Number.isSafeInteger(startOffset) || startOffset < 0) {
      throw new RangeError(`leader epoch entry (${epoch}, ${startOffset}) must be non-negative integers`);
    }
    const latest = this.#entries.at(-1);
    if (latest !== undefined && latest.epoch === epoch && latest.startOffset <= startOffset) return;
    const removed: EpochEntry[] = [];
    while (this.#entries.length > 0) {
      const last = this.#entries.at(-1)!;
      if (last.epoch < epoch && last.startOffset < startOffset) break;
      removed.unshift(this.#entries.pop()!);
    }
    // Removing just the entry this one replaces at the same offset is routine (no data was
    // written in it); anything more means the log diverged and is worth a look.
    if (removed.length > 1 || (removed.length === 1 && removed[0]!.startOffset !== startOffset)) {
      this.#logger.warn({ epoch, startOffset, removed }, 'leader epoch assignment is not monotonic; removed later epoch entries');
    }
    this.#entries.push({ epoch, startOffset });
    this.#persist();
  }

  /**
   * Kafka's OffsetsForLeaderEpoch answer: for the latest epoch, the log end offset; otherwise
   * the largest known epoch <= requested and the start offset of the next epoch after it.
   * (-1, -1) when requested is -1 or newer than every known epoch.
   */
  endOffsetFor(requestedEpoch: number, logEndOffset: number = this.#logEndOffset()): EpochEndOffset {
    const undefinedAnswer = { epoch: UNDEFINED_EPOCH, endOffset: UNDEFINED_EPOCH_OFFSET };
    if (requestedEpoch === UNDEFINED_EPOCH) return undefinedAnswer;
    const latest = this.#entries.at(-1);
    if (latest !== undefined && latest.epoch === requestedEpoch) return { epoch: requestedEpoch, endOffset: logEndOffset };
    const higher = this.#entries.find((e) => e.epoch > requestedEpoch);
    if (higher === undefined) return undefinedAnswer;
    const floor = this.#entries.findLast((e) => e.epoch <= requestedEpoch);
    // No entry at or below the requested epoch: that history was deleted by retention, so the
    // best truncation point is where the first retained epoch starts.
    return { epoch: floor?.epoch ?? requestedEpoch, endOffset: higher.startOffset };
  }

  /** Removes entries starting at or after `endOffset` (the log was truncated there). */
  truncateFromEnd(endOffset: number): void {
    const latest = this.#entries.at(-1);
    if (endOffset < 0 || latest === undefined || latest.startOffset < endOffset) return;
    while (this.#entries.length > 0 && this.#entries.at(-1)!.startOffset >= endOffset) this.#entries.pop();
    this.#persist();
  }

  /**
   * The log now starts at `startOffset`: entries wholly before it go, and the epoch that covers
   * it is kept with its start moved up, so endOffsetFor never names an offset below the log start.
   */
  truncateFromStart(startOffset: number): void {
    const earliest = this.#entries[0];
    if (startOffset < 0 || earliest === undefined || earliest.startOffset >= startOffset) return;
    let covering: EpochEntry | undefined;
    while (this.#entries.length > 0 && this.#entries[0]!.startOffset <= startOffset) covering = this.#entries.shift();
    this.#entries.unshift({ epoch: covering!.epoch, startOffset });
    this.#persist();
  }

  /** Replaces every entry (used when the cache is rebuilt from batch headers). */
  reset(entries: readonly EpochEntry[]): void {
    this.#entries = entries.map((e) => ({ ...e }));
    this.#persist();
  }

  /** Resolves when every change so far is on disk; rejects if the newest write failed. */
  async flush(): Promise<void> {
    await this.#lastWrite;
  }

  #persist(): void {
    if (this.#file === null) return;
    const write = this.#file.write(this.#entries.map((e) => `${e.epoch} ${e.startOffset}`));
    // Callers that need durability await flush(); a failure here must not become an
    // unhandled rejection (which would kill the broker), and the next change rewrites the file.
    write.catch((err: unknown) => this.#logger.error({ err, path: this.#file!.path }, 'cannot write leader epoch checkpoint'));
    this.#lastWrite = write;
  }
}

export function leaderEpochCheckpointFile(path: string): CheckpointFile {
  return new CheckpointFile(path, CHECKPOINT_VERSION);
}
