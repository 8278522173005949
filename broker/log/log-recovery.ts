// Loading the segments of a partition directory (DESIGN §4). After a clean shutdown only the
// active segment's tail is checked; after a crash every batch from the recovery point on is
// validated (structure, CRC, contiguous offsets, non-decreasing leader epochs) and the log is
// cut at the first one that fails, dropping every later segment: a torn write or a damaged
// block must never reach a follower or a consumer. Nothing in a damaged directory throws past
// this point except I/O errors; damage is logged and repaired.
import { readdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { SluiceError } from '../../common/errors.ts';
import type { BatchHeader } from '../../common/record-batch.ts';
import { TMP_SUFFIX } from './checkpoint-file.ts';
import { DELETED_SUFFIX, INDEX_SUFFIX, LOG_SUFFIX, TIME_INDEX_SUFFIX, offsetFileName, parseOffsetFileName } from './log-file-names.ts';
import { LogSegment } from './segment.ts';

export interface RecoveryState {
  /** Epoch of the last batch validated so far; leader epochs never decrease along a log. */
  previousEpoch: number;
}

export interface RecoveredSegment {
  /** Bytes cut from the end of the file (0 when every batch was valid). */
  truncatedBytes: number;
}

/**
 * Validates every batch of one segment, rebuilds its indexes, and cuts the file at the first
 * torn or corrupt batch. `onBatch` sees each accepted batch in order.
 */
export async function recoverSegment(
  segment: LogSegment,
  state: RecoveryState,
  logger: Logger,
  onBatch: (header: BatchHeader) => void,
): Promise<RecoveredSegment> {
  let expected = segment.baseOffset;
  const result = await segment.rebuild({
    validate: true,
    visit: (h, position) => {
      // baseOffset and partitionLeaderEpoch sit before the CRC'd range, so a flipped bit there
      // passes the CRC; offsets are contiguous and epochs non-decreasing in a sound log.
      if (h.baseOffset !== expected) {
        throw new SluiceError('CORRUPT_MESSAGE', `batch at byte ${position} has base offset ${h.baseOffset}, expected ${expected}`);
      }
      if (h.lastOffsetDelta < 0 || !segment.canHoldOffset(h.lastOffset)) {
        throw new SluiceError('CORRUPT_MESSAGE', `batch at byte ${position} has lastOffsetDelta ${h.lastOffsetDelta}`);
      }
      if (h.partitionLeaderEpoch < state.previousEpoch) {
        throw new SluiceError('CORRUPT_MESSAGE', `batch at byte ${position} has leader epoch ${h.partitionLeaderEpoch} after epoch ${state.previousEpoch}`);
      }
      state.previousEpoch = h.partitionLeaderEpoch;
      expected = h.lastOffset + 1;
      onBatch(h);
    },
  });
  if (result.error === null) return { truncatedBytes: 0 };
  const truncatedBytes = segment.size - result.end;
  logger.warn(
    { err: result.error, segment: segment.logPath, position: result.end, truncatedBytes },
    'recovery found a torn or corrupt batch; truncating the log there',
  );
  await segment.truncateFile(result.end);
  return { truncatedBytes };
}

export interface LoadSegmentsOptions {
  dir: string;
  logger: Logger;
  /** Validate from the recovery point (unclean shutdown) instead of trusting the files. */
  recover: boolean;
  recoveryPoint: number;
  logStartOffset: number;
  indexIntervalBytes: number;
  /** Every batch validated during recovery, in log order (the epoch cache is rebuilt from them). */
  onRecoveredBatch: (header: BatchHeader) => void;
}

export interface LoadedSegments {
  segments: LogSegment[];
  /** Base offset of the first segment whose batches were validated, or null if none was. */
  recoveredFrom: number | null;
  /** Whether anything was cut or dropped. */
  truncated: boolean;
}

async function removeQuietly(paths: string[]): Promise<void> {
  await Promise.all(paths.map((p) => rm(p, { force: true })));
}

async function deleteSegmentFiles(segment: LogSegment): Promise<void> {
  await segment.close();
  await removeQuietly([segment.logPath, segment.indexPath, segment.timeIndexPath]);
}

export async function loadSegments(opts: LoadSegmentsOptions): Promise<LoadedSegments> {
  const { dir, logger } = opts;
  const names = await readdir(dir);
  const bases: number[] = [];
  const logBases = new Set<number>();
  for (const name of names) {
    const base = parseOffsetFileName(name, LOG_SUFFIX);
    if (base !== null) {
      bases.push(base);
      logBases.add(base);
    }
  }
  for (const name of names) {
    // A crash can leave a half-written tmp file (atomic writes), files of a segment deleted by
    // retention, or indexes whose log is gone; none of them is part of the log.
    if (name.endsWith(TMP_SUFFIX) || name.endsWith(DELETED_SUFFIX)) {
      logger.info({ file: name }, 'removing leftover file');
      await rm(join(dir, name), { force: true, recursive: true });
      continue;
    }
    const indexBase = parseOffsetFileName(name, INDEX_SUFFIX) ?? parseOffsetFileName(name, TIME_INDEX_SUFFIX);
    if (indexBase !== null && !logBases.has(indexBase)) {
      logger.info({ file: name }, 'removing index without a segment');
      await rm(join(dir, name), { force: true });
    }
  }
  bases.sort((a, b) => a - b);

  let segments: LogSegment[] = [];
  let truncated = false;
  for (let i = 0; i < bases.length; i++) {
    const base = bases[i]!;
    const path = join(dir, offsetFileName(base, LOG_SUFFIX));
    const size = (await stat(path)).size;
    const segment = LogSegment.existing(dir, base, size, logger);
    segment.indexIntervalBytes = opts.indexIntervalBytes;
    // An empty segment before the last holds no offsets; keeping it would give the offset
    // range between it and the next segment two owners.
    if (size === 0 && i < bases.length - 1) {
      logger.warn({ segment: path }, 'removing empty segment in the middle of the log');
      await deleteSegmentFiles(segment);
      continue;
    }
    segments.push(segment);
  }

  // Segments wholly below the log start offset were deleted by retention just before a crash.
  while (segments.length > 1 && segments[1]!.baseOffset <= opts.logStartOffset) {
    const gone = segments.shift()!;
    logger.info({ segment: gone.logPath, logStartOffset: opts.logStartOffset }, 'removing segment below the log start offset');
    await deleteSegmentFiles(gone);
  }
  for (let i = 0; i + 1 < segments.length; i++) segments[i]!.knownNextOffset = segments[i + 1]!.baseOffset;

  if (segments.length === 0) {
    const segment = await LogSegment.create(dir, Math.max(opts.logStartOffset, 0), logger);
    segment.indexIntervalBytes = opts.indexIntervalBytes;
    return { segments: [segment], recoveredFrom: null, truncated: false };
  }

  let recoveredFrom: number | null = null;
  const recoverFrom = async (start: number): Promise<void> => {
    recoveredFrom = segments[start]!.baseOffset;
    const state: RecoveryState = { previousEpoch: -1 };
    for (let i = start; i < segments.length; i++) {
      const segment = segments[i]!;
      const result = await recoverSegment(segment, state, logger, opts.onRecoveredBatch);
      const next = segments[i + 1];
      if (result.truncatedBytes > 0) truncated = true;
      if (next !== undefined && (result.truncatedBytes > 0 || next.baseOffset !== segment.nextOffset)) {
        // Later segments continue a history that this one no longer reaches: drop them all.
        logger.warn({ segment: segment.logPath, endOffset: segment.nextOffset, dropped: segments.length - i - 1 }, 'dropping the segments after a damaged one');
        for (const later of segments.slice(i + 1)) await deleteSegmentFiles(later);
        segments = segments.slice(0, i + 1);
        truncated = true;
        break;
      }
    }
  };

  try {
    if (opts.recover) {
      let start = 0;
      for (let i = 0; i < segments.length; i++) if (segments[i]!.baseOffset <= opts.recoveryPoint) start = i;
      await recoverFrom(start);
    } else {
      const active = segments.at(-1)!;
      if (!(await active.loadAsActive())) await recoverFrom(segments.length - 1);
    }
  } catch (err) {
    // An I/O error (not damage, which is repaired above): release the descriptors opened so far.
    for (const segment of segments) await segment.close().catch(() => undefined);
    throw err;
  }
  return { segments, recoveredFrom, truncated };
}
