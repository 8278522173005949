// Shared setup of the broker/log tests: temp directories, record batches with chosen
// timestamps and producer fields, and a "crash copy" of a live log directory (the bytes a
// crashed process leaves behind: written data, no close-time files).
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';
import { decodeRecordBatches, encodeRecordBatch } from '../../common/record-batch.ts';
import { DEFAULT_LOG_CONFIG, type LogConfig } from './log-config.ts';
import { PartitionLog } from './partition-log.ts';

export const silent: Logger = pino({ level: 'silent' });

/** A logger that keeps every message (warn and above) for assertions on which repair path ran. */
export function capturingLogger(): { logger: Logger; messages: string[] } {
  const messages: string[] = [];
  const logger = pino(
    { level: 'warn' },
    {
      write(line: string) {
        messages.push((JSON.parse(line) as { msg: string }).msg);
      },
    },
  );
  return { logger, messages };
}

const dirs: string[] = [];

export async function tempDir(prefix = 'sluice-log-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  dirs.push(dir);
  return dir;
}

export async function removeTempDirs(): Promise<void> {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

export function testConfig(overrides: Partial<LogConfig> = {}): LogConfig {
  return { ...DEFAULT_LOG_CONFIG, indexIntervalBytes: 256, ...overrides };
}

export interface BatchSpec {
  records?: number;
  valueBytes?: number;
  /** Timestamp of the first record; record i gets timestamp + i. */
  timestamp?: number;
  producerId?: number;
  producerEpoch?: number;
  baseSequence?: number;
  /** Offsets/epoch pre-stamped (follower batches). */
  baseOffset?: number;
  partitionLeaderEpoch?: number;
  tag?: string;
}

/** One batch whose record values are `${tag}-${i}` padded to valueBytes. */
export function batch(spec: BatchSpec = {}): Buffer {
  const n = spec.records ?? 3;
  const ts = spec.timestamp ?? 1_000;
  const tag = spec.tag ?? 'r';
  const records = Array.from({ length: n }, (_, i) => ({
    key: Buffer.from(`k${i}`),
    value: Buffer.from(`${tag}-${i}`.padEnd(spec.valueBytes ?? 0, '.')),
    timestamp: ts + i,
  }));
  return encodeRecordBatch(records, {
    producerId: spec.producerId,
    producerEpoch: spec.producerEpoch,
    baseSequence: spec.baseSequence,
    baseOffset: spec.baseOffset,
    partitionLeaderEpoch: spec.partitionLeaderEpoch,
  });
}

/** Offsets of every record in a read result. */
export function offsetsIn(buf: Buffer): number[] {
  return decodeRecordBatches(buf).flatMap((b) => b.records.map((r) => r.offset));
}

export function valuesIn(buf: Buffer): string[] {
  return decodeRecordBatches(buf).flatMap((b) => b.records.map((r) => r.value?.toString() ?? ''));
}

export interface OpenOptions {
  config?: Partial<LogConfig>;
  now?: () => number;
  recover?: boolean;
  topicId?: string;
  logger?: Logger;
}

export function openLog(dir: string, opts: OpenOptions = {}): Promise<PartitionLog> {
  return PartitionLog.open(dir, {
    topic: 'orders',
    partition: 0,
    topicId: opts.topicId ?? 'topic-id-1',
    config: testConfig(opts.config),
    logger: opts.logger ?? silent,
    now: opts.now,
    recover: opts.recover ?? false,
  });
}

/**
 * Copies a live log's directory as a crash would leave it: whatever has been written, none of
 * what close() writes. The original log can then be closed normally.
 */
export async function crashCopy(log: PartitionLog): Promise<string> {
  await log.flush(); // lets background seals finish so the copy is not taken mid-file-write
  const copy = join(await tempDir('sluice-crash-'), 'orders-0');
  await cp(log.dir, copy, { recursive: true });
  return copy;
}

/** A manual clock for roll-by-age, retention and flush.ms tests. */
export class ManualClock {
  ms: number;
  constructor(start = 1_000_000) {
    this.ms = start;
  }
  readonly now = (): number => this.ms;
  advance(ms: number): void {
    this.ms += ms;
  }
}
