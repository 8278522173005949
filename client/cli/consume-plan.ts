// Where `sluice consume` starts and when it stops: pure rules, tested without a cluster.
import { UsageError } from './cli-errors.ts';

export type StartPosition =
  | { kind: 'beginning' }
  | { kind: 'end' }
  | { kind: 'offset'; offset: number }
  | { kind: 'timestamp'; timestamp: number };

export interface StartFlags {
  fromBeginning?: boolean;
  offset?: number | 'earliest' | 'latest';
  fromTimestamp?: number;
  partition?: number;
  follow?: boolean;
}

/**
 * The start position the flags ask for, and whether to keep waiting for new records. Starting
 * at the end (the default, as kafka-console-consumer does) has nothing to catch up with, so it
 * implies following.
 */
export function resolveStart(flags: StartFlags): { start: StartPosition; follow: boolean } {
  const given = [flags.fromBeginning === true, flags.offset !== undefined, flags.fromTimestamp !== undefined].filter(Boolean).length;
  if (given > 1) throw new UsageError('give only one of --from-beginning, --offset, --from-timestamp');
  if (flags.offset !== undefined && flags.partition === undefined) {
    throw new UsageError('--offset needs --partition: an offset means something only within one partition');
  }
  let start: StartPosition;
  if (flags.fromBeginning || flags.offset === 'earliest') start = { kind: 'beginning' };
  else if (flags.offset === 'latest') start = { kind: 'end' };
  else if (typeof flags.offset === 'number') start = { kind: 'offset', offset: flags.offset };
  else if (flags.fromTimestamp !== undefined) start = { kind: 'timestamp', timestamp: flags.fromTimestamp };
  else start = { kind: 'end' };
  return { start, follow: flags.follow === true || start.kind === 'end' };
}

/**
 * Tracks, per partition, the next offset to read against the end offset (high watermark)
 * seen at start. Caught up = every partition has reached the end it had when we started;
 * records appended since do not keep a non-following consume running forever.
 */
export class CatchUpTracker {
  private readonly remaining = new Map<number, number>();

  /** `next`: the offset the consumer will read next; `end`: the partition's high watermark at start. */
  constructor(positions: readonly { partition: number; next: number; end: number }[]) {
    for (const p of positions) if (p.next < p.end) this.remaining.set(p.partition, p.end);
  }

  consumed(partition: number, offset: number): void {
    const end = this.remaining.get(partition);
    if (end !== undefined && offset + 1 >= end) this.remaining.delete(partition);
  }

  get caughtUp(): boolean {
    return this.remaining.size === 0;
  }

  /** Partitions not yet at their starting end, for a timeout message. */
  get behind(): number[] {
    return [...this.remaining.keys()].sort((a, b) => a - b);
  }
}

export interface PrintableRecord {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Buffer | null;
  value: Buffer | null;
  headers: readonly { key: string; value: Buffer | null }[];
}

/** Text output: the value, optionally preceded by partition and offset, and the key; tab-separated. */
export function formatRecordText(r: PrintableRecord, opts: { printKey?: boolean; printOffset?: boolean }): string {
  const cells: string[] = [];
  if (opts.printOffset) cells.push(String(r.partition), String(r.offset));
  if (opts.printKey) cells.push(r.key === null ? 'null' : r.key.toString('utf8'));
  cells.push(r.value === null ? 'null' : r.value.toString('utf8'));
  return cells.join('\t');
}

/** JSON output: one object per line, so a script can read records as they arrive. */
export function formatRecordJson(r: PrintableRecord): string {
  return JSON.stringify({
    topic: r.topic,
    partition: r.partition,
    offset: r.offset,
    timestamp: r.timestamp,
    key: r.key === null ? null : r.key.toString('utf8'),
    value: r.value === null ? null : r.value.toString('utf8'),
    headers: r.headers.map((h) => ({ key: h.key, value: h.value === null ? null : h.value.toString('utf8') })),
  });
}
