// The history a fault test records (DESIGN §12): every send, acknowledgement and poll, the
// controller's elections and committed partition states, the faults injected, and a complete
// read of every partition at the end. Plain data only, so that history-checker.ts can judge it
// without any process running, and one JSON object per line, so that a failing run can be saved
// next to its logs and re-checked (or the checker fixed and re-run) without repeating the run.
import * as fs from 'node:fs';
import * as path from 'node:path';

export type FaultKind = 'kill' | 'pause' | 'resume' | 'restart-broker' | 'restart-controller';
export const FAULT_KINDS: readonly FaultKind[] = ['kill', 'pause', 'resume', 'restart-broker', 'restart-controller'];

/** A producer handed a record to the client library. */
export interface SendEvent {
  readonly type: 'send';
  /** Names one producer instance: ack order is checked per producer, so never reuse a name for a new instance. */
  readonly producer: string;
  /** The record's value, unique over the whole history (e.g. "p1-42"): it is how a record is followed. */
  readonly id: string;
  readonly topic: string;
  /** Absent when the partitioner chooses; the ack says where it went. */
  readonly partition?: number;
  readonly key: string | null;
}

/** The send was acknowledged (acks=all): the record is committed at this offset. */
export interface AckEvent {
  readonly type: 'ack';
  readonly producer: string;
  readonly id: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/**
 * The send gave up with an error. The record may still be in the log (it may have been appended
 * before the error), so it is never counted as lost; if it is there, it must be there once.
 */
export interface SendFailedEvent {
  readonly type: 'send-failed';
  readonly producer: string;
  readonly id: string;
  /** The Sluice error code or another short reason ("TIMEOUT", "NOT_ENOUGH_REPLICAS"). */
  readonly code: string;
}

/** One record a consumer poll returned. */
export interface ReadEvent {
  readonly type: 'read';
  readonly consumer: string;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly id: string;
  /** The HW carried by the fetch reply that returned this record. */
  readonly highWatermark: number;
}

/** The controller elected a leader (from its "leader elected" log line or an election record). */
export interface ElectionEvent {
  readonly type: 'election';
  readonly topic: string;
  readonly partition: number;
  /** NO_LEADER (-1) when the partition went offline. */
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  /** The committed ISR just before the election: the set the leader must come from. */
  readonly isrBefore: readonly number[];
  /** The controller says the leader came from outside the committed ISR. */
  readonly unclean: boolean;
  readonly reason: string;
}

/** A periodic observation of the controller's committed state of a partition. */
export interface StateEvent {
  readonly type: 'state';
  readonly topic: string;
  readonly partition: number;
  /** NO_LEADER (-1) when the partition is offline. */
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly isr: readonly number[];
}

/** One record of the complete read of every partition at the end, after all faults healed. */
export interface FinalReadEvent {
  readonly type: 'final-read';
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly id: string;
}

/** A fault the test injected; recorded for the report and for counting, not judged. */
export interface FaultEvent {
  readonly type: 'fault';
  readonly kind: FaultKind;
  /** What was hit: "broker-1", "controller". */
  readonly target: string;
}

export type HistoryEventBody = SendEvent | AckEvent | SendFailedEvent | ReadEvent | ElectionEvent | StateEvent | FinalReadEvent | FaultEvent;
export type HistoryEventType = HistoryEventBody['type'];

export interface EventStamp {
  /** Position in the history, from 0, strictly increasing: the order the test observed things in. */
  readonly seq: number;
  /** performance.now() when recorded, in ms; for the report and for reading logs alongside. */
  readonly time: number;
}

export type HistoryEvent = HistoryEventBody & EventStamp;
/** One kind of event as recorded: `Recorded<AckEvent>`. */
export type Recorded<T extends HistoryEventBody> = T & EventStamp;

export interface HistoryRecorderOptions {
  /** Clock for `time`; performance.now by default. */
  readonly now?: () => number;
}

export class HistoryRecorder {
  readonly #events: HistoryEvent[] = [];
  readonly #now: () => number;
  #nextSeq = 0;

  constructor(options: HistoryRecorderOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
  }

  /** Appends an event and returns it stamped. */
  record<T extends HistoryEventBody>(body: T): Recorded<T> {
    // Microseconds are plenty for reading a history against logs, and keep the file short.
    const time = Math.round(this.#now() * 1000) / 1000;
    const event = { seq: this.#nextSeq++, time, ...copyBody(body) } as Recorded<T>;
    this.#events.push(event);
    return event;
  }

  get events(): readonly HistoryEvent[] {
    return this.#events;
  }

  get size(): number {
    return this.#events.length;
  }

  toJSONL(): string {
    if (this.#events.length === 0) return '';
    return this.#events.map((e) => JSON.stringify(e)).join('\n') + '\n';
  }

  /** Writes the history atomically, so a run killed mid-save never leaves half a history to re-check. */
  save(file: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, this.toJSONL());
    fs.renameSync(tmp, file);
  }

  /**
   * Parses a saved history, validating every line, so that a hand-edited or truncated file fails
   * here with its line number instead of making the checker report nonsense. Recording may
   * continue on the result; new events follow the loaded ones.
   */
  static fromJSONL(text: string): HistoryRecorder {
    const recorder = new HistoryRecorder();
    const lines = text.split('\n');
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i]!.trim();
      if (line === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line);
      } catch (err) {
        throw new Error(`history line ${i + 1}: not JSON (${(err as Error).message})`);
      }
      const problem = validateEvent(value);
      if (problem !== undefined) throw new Error(`history line ${i + 1}: ${problem}`);
      const event = value as HistoryEvent;
      // The checker takes seq as send order; a shuffled or concatenated file would mislead it.
      if (event.seq < recorder.#nextSeq) throw new Error(`history line ${i + 1}: seq ${event.seq} does not follow ${recorder.#nextSeq - 1}`);
      recorder.#events.push(event);
      recorder.#nextSeq = event.seq + 1;
    }
    return recorder;
  }

  static load(file: string): HistoryRecorder {
    return HistoryRecorder.fromJSONL(fs.readFileSync(file, 'utf8'));
  }
}

// Arrays are copied so that a caller passing a live ISR array cannot rewrite history later; a
// stamp in the body (an event recorded again) is dropped so the new one stands.
function copyBody(body: HistoryEventBody): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(body)) {
    if (k === 'seq' || k === 'time') continue;
    out[k] = Array.isArray(v) ? [...v] : v;
  }
  return out;
}

type FieldType = 'string' | 'int' | 'number' | 'boolean' | 'string|null' | 'int[]' | 'fault-kind';

const STAMP_FIELDS: Readonly<Record<string, FieldType>> = { seq: 'int', time: 'number' };

const FIELDS: { readonly [K in HistoryEventType]: Readonly<Record<string, FieldType>> } = {
  send: { producer: 'string', id: 'string', topic: 'string', key: 'string|null' },
  ack: { producer: 'string', id: 'string', topic: 'string', partition: 'int', offset: 'int' },
  'send-failed': { producer: 'string', id: 'string', code: 'string' },
  read: { consumer: 'string', topic: 'string', partition: 'int', offset: 'int', id: 'string', highWatermark: 'int' },
  election: { topic: 'string', partition: 'int', leader: 'int', leaderEpoch: 'int', partitionEpoch: 'int', isrBefore: 'int[]', unclean: 'boolean', reason: 'string' },
  state: { topic: 'string', partition: 'int', leader: 'int', leaderEpoch: 'int', partitionEpoch: 'int', isr: 'int[]' },
  'final-read': { topic: 'string', partition: 'int', offset: 'int', id: 'string' },
  fault: { kind: 'fault-kind', target: 'string' },
};

/** Fields that may be absent, by event type. */
const OPTIONAL_FIELDS: { readonly [K in HistoryEventType]?: Readonly<Record<string, FieldType>> } = {
  send: { partition: 'int' },
};

function validateEvent(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const obj = value as Record<string, unknown>;
  const type = obj['type'];
  if (typeof type !== 'string' || !Object.hasOwn(FIELDS, type)) return `unknown event type ${JSON.stringify(type)}`;
  const required = { ...STAMP_FIELDS, ...FIELDS[type as HistoryEventType] };
  for (const [field, fieldType] of Object.entries(required)) {
    if (!Object.hasOwn(obj, field)) return `${type} event lacks "${field}"`;
    if (!hasType(obj[field], fieldType)) return `${type} event field "${field}" is ${JSON.stringify(obj[field])}, expected ${fieldType}`;
  }
  for (const [field, fieldType] of Object.entries(OPTIONAL_FIELDS[type as HistoryEventType] ?? {})) {
    if (obj[field] !== undefined && !hasType(obj[field], fieldType)) return `${type} event field "${field}" is ${JSON.stringify(obj[field])}, expected ${fieldType}`;
  }
  return undefined;
}

function hasType(v: unknown, t: FieldType): boolean {
  switch (t) {
    case 'string':
      return typeof v === 'string';
    case 'int':
      return Number.isSafeInteger(v);
    case 'number':
      return typeof v === 'number' && Number.isFinite(v);
    case 'boolean':
      return typeof v === 'boolean';
    case 'string|null':
      return v === null || typeof v === 'string';
    case 'int[]':
      return Array.isArray(v) && v.every((x) => Number.isSafeInteger(x));
    case 'fault-kind':
      return (FAULT_KINDS as readonly unknown[]).includes(v);
  }
}
