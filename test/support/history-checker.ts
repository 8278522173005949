// Judges a recorded history (history.ts) against the correctness properties of DESIGN §12:
// no acknowledged record lost, one record per (partition, offset) forever, no duplicates with
// idempotence, consumers never above HW and never seeing an offset's record change, no leader
// epoch reused, no leader from outside the committed ISR (unless unclean election is allowed).
//
// Pure and linear (maps keyed by partition, offset and id; only the per-partition final read,
// per-producer acks and epochs are sorted), so a history of hundreds of thousands of events is
// checked in well under a second, and the same check runs on a history saved by a failed run.
//
// One fault may break several properties and then shows up under each (an acked record replaced
// by another is both `lost-ack` and `conflicting-offset`); a disagreement at one offset is
// reported once, as `changed-record` when consumer reads alone disagree, else as
// `conflicting-offset`.
import { NO_LEADER } from '../../operator/core/election.ts';
import {
  FAULT_KINDS,
  type AckEvent as AckBody,
  type ElectionEvent as ElectionBody,
  type FaultKind,
  type FinalReadEvent as FinalReadBody,
  type HistoryEvent,
  type ReadEvent as ReadBody,
  type Recorded,
  type SendEvent as SendBody,
  type SendFailedEvent as SendFailedBody,
  type StateEvent as StateBody,
} from './history.ts';

type AckEvent = Recorded<AckBody>;
type ElectionEvent = Recorded<ElectionBody>;
type FinalReadEvent = Recorded<FinalReadBody>;
type ReadEvent = Recorded<ReadBody>;
type SendEvent = Recorded<SendBody>;
type SendFailedEvent = Recorded<SendFailedBody>;
type StateEvent = Recorded<StateBody>;

export type ViolationKind =
  | 'lost-ack'
  | 'conflicting-offset'
  | 'duplicate'
  | 'changed-record'
  | 'read-above-hw'
  | 'ack-order'
  | 'reused-epoch'
  | 'unclean-leader'
  | 'gap';

/** Report order: data loss first, then what corrupts what consumers see, then controller faults. */
export const VIOLATION_KINDS: readonly ViolationKind[] = [
  'lost-ack',
  'conflicting-offset',
  'duplicate',
  'changed-record',
  'read-above-hw',
  'gap',
  'ack-order',
  'reused-epoch',
  'unclean-leader',
];

export interface Violation {
  readonly kind: ViolationKind;
  /** What is wrong, naming the partition, offset, id or epoch. */
  readonly message: string;
  /** The events that show it, in history order. */
  readonly events: readonly HistoryEvent[];
}

export interface HistoryCounts {
  readonly sends: number;
  readonly acks: number;
  readonly failedSends: number;
  /** Records returned by consumer polls. */
  readonly reads: number;
  readonly finalRecords: number;
  readonly elections: number;
  readonly stateObservations: number;
  readonly faults: number;
  readonly faultsByKind: Readonly<Record<FaultKind, number>>;
}

export interface HistoryCheckResult {
  readonly ok: boolean;
  readonly violations: readonly Violation[];
  readonly counts: HistoryCounts;
}

export interface CheckOptions {
  /**
   * The topics' unclean.leader.election.enable. Off (the default, as in the §12 fault test), every
   * leader from outside the committed ISR is a violation, even one the controller flags unclean:
   * the flag is the controller's own claim and cannot excuse breaking the topic's config.
   */
  readonly uncleanElectionAllowed?: boolean;
}

// ---------------------------------------------------------------------------------------------

interface PartitionFacts {
  readonly topic: string;
  readonly partition: number;
  /** offset → what every source said stands there. */
  readonly offsets: Map<number, OffsetFacts>;
  /** Offsets present in the final read. */
  readonly finalOffsets: Set<number>;
  readonly finalEvents: FinalReadEvent[];
  readonly elections: ElectionEvent[];
  readonly states: StateEvent[];
  /** One past the final read's highest offset (0 when empty); set once everything is collected. */
  end: number;
}

/** id → the first event of each source that put that id at this offset. */
type OffsetFacts = Map<string, IdSightings>;

interface IdSightings {
  ack?: AckEvent;
  read?: ReadEvent;
  final?: FinalReadEvent;
}

export function checkHistory(events: readonly HistoryEvent[], options: CheckOptions = {}): HistoryCheckResult {
  const violations: Violation[] = [];
  const partitions = new Map<string, PartitionFacts>();
  const sends = new Map<string, SendEvent>();
  const failed = new Map<string, SendFailedEvent>();
  const acks: AckEvent[] = [];
  /** id → the first place a read or the final read saw it, and every other place it was seen. */
  const firstPlace = new Map<string, { place: string; event: ReadEvent | FinalReadEvent }>();
  const morePlaces = new Map<string, Map<string, ReadEvent | FinalReadEvent>>();
  const faultsByKind = Object.fromEntries(FAULT_KINDS.map((k) => [k, 0])) as Record<FaultKind, number>;
  let sendCount = 0;
  let failedCount = 0;
  let readCount = 0;
  let finalCount = 0;
  let electionCount = 0;
  let stateCount = 0;
  let faultCount = 0;

  const factsOf = (topic: string, partition: number): PartitionFacts => {
    const key = partitionKey(topic, partition);
    let facts = partitions.get(key);
    if (!facts) {
      facts = { topic, partition, offsets: new Map(), finalOffsets: new Set(), finalEvents: [], elections: [], states: [], end: 0 };
      partitions.set(key, facts);
    }
    return facts;
  };
  const sightingsAt = (facts: PartitionFacts, offset: number, id: string): IdSightings => {
    let atOffset = facts.offsets.get(offset);
    if (!atOffset) {
      atOffset = new Map();
      facts.offsets.set(offset, atOffset);
    }
    let sightings = atOffset.get(id);
    if (!sightings) {
      sightings = {};
      atOffset.set(id, sightings);
    }
    return sightings;
  };
  // Only what was read shows where a record really is; an ack's offset is the broker's claim,
  // and a wrong one shows up as lost-ack or conflicting-offset instead.
  const seenAt = (event: ReadEvent | FinalReadEvent): void => {
    const place = `${partitionKey(event.topic, event.partition)}\u0000${event.offset}`;
    const first = firstPlace.get(event.id);
    if (!first) {
      firstPlace.set(event.id, { place, event });
      return;
    }
    if (first.place === place) return;
    let more = morePlaces.get(event.id);
    if (!more) {
      more = new Map();
      morePlaces.set(event.id, more);
    }
    if (!more.has(place)) more.set(place, event);
  };

  for (const e of events) {
    switch (e.type) {
      case 'send':
        sendCount++;
        if (!sends.has(e.id)) sends.set(e.id, e);
        break;
      case 'ack': {
        acks.push(e);
        const s = sightingsAt(factsOf(e.topic, e.partition), e.offset, e.id);
        s.ack ??= e;
        break;
      }
      case 'send-failed':
        failedCount++;
        if (!failed.has(e.id)) failed.set(e.id, e);
        break;
      case 'read': {
        readCount++;
        if (e.offset >= e.highWatermark) {
          violations.push({
            kind: 'read-above-hw',
            message: `${tp(e)} offset ${e.offset}: consumer ${e.consumer} read ${e.id} at or above the high watermark ${e.highWatermark} of the same reply`,
            events: [e],
          });
        }
        const s = sightingsAt(factsOf(e.topic, e.partition), e.offset, e.id);
        s.read ??= e;
        seenAt(e);
        break;
      }
      case 'final-read': {
        finalCount++;
        const facts = factsOf(e.topic, e.partition);
        facts.finalOffsets.add(e.offset);
        facts.finalEvents.push(e);
        const s = sightingsAt(facts, e.offset, e.id);
        s.final ??= e;
        seenAt(e);
        break;
      }
      case 'election':
        electionCount++;
        factsOf(e.topic, e.partition).elections.push(e);
        break;
      case 'state':
        stateCount++;
        factsOf(e.topic, e.partition).states.push(e);
        break;
      case 'fault':
        faultCount++;
        faultsByKind[e.kind]++;
        break;
    }
  }

  for (const facts of partitions.values()) {
    facts.end = finalEnd(facts);
    checkOffsets(facts, facts.end, violations);
    checkGaps(facts, violations);
    checkEpochs(facts, violations);
    checkLeadersFromIsr(facts, options.uncleanElectionAllowed ?? false, violations);
  }
  checkLostAcks(acks, partitions, violations);
  checkDuplicates(firstPlace, morePlaces, sends, failed, violations);
  checkAckOrder(acks, sends, violations);

  violations.sort((a, b) => VIOLATION_KINDS.indexOf(a.kind) - VIOLATION_KINDS.indexOf(b.kind) || firstSeq(a) - firstSeq(b));
  return {
    ok: violations.length === 0,
    violations,
    counts: {
      sends: sendCount,
      acks: acks.length,
      failedSends: failedCount,
      reads: readCount,
      finalRecords: finalCount,
      elections: electionCount,
      stateObservations: stateCount,
      faults: faultCount,
      faultsByKind,
    },
  };
}

/** One past the highest offset of the final read; 0 when it holds nothing. */
function finalEnd(facts: PartitionFacts): number {
  let end = 0;
  for (const o of facts.finalOffsets) if (o + 1 > end) end = o + 1;
  return end;
}

/**
 * Every offset names one record forever. Also: a record a consumer read (so below HW: committed)
 * must still stand at the end; one beyond the final read's end vanished. (One below it is in a
 * hole and reported as a gap.)
 */
function checkOffsets(facts: PartitionFacts, end: number, out: Violation[]): void {
  for (const [offset, byId] of facts.offsets) {
    if (byId.size === 1) {
      const [id, s] = byId.entries().next().value!;
      // An acked record that vanished is reported as lost-ack, which says more.
      if (s.read && !s.final && !s.ack && offset >= end) {
        out.push({
          kind: 'conflicting-offset',
          message: `${tp(facts)} offset ${offset}: consumer ${s.read.consumer} read ${id} there, but the final read ends ${end === 0 ? 'empty' : `at offset ${end - 1}`}: a read (committed) record vanished`,
          events: [s.read],
        });
      }
      continue;
    }
    const readIds = [...byId.values()].filter((s) => s.read).length;
    const ids = [...byId.keys()].join(', ');
    const evidence = sortBySeq([...byId.values()].flatMap((s) => [s.ack, s.read, s.final].filter((x) => x !== undefined)));
    if (readIds > 1) {
      out.push({ kind: 'changed-record', message: `${tp(facts)} offset ${offset}: consumers read different records there (${ids})`, events: evidence });
    } else {
      out.push({ kind: 'conflicting-offset', message: `${tp(facts)} offset ${offset}: different records seen there (${ids})`, events: evidence });
    }
  }
}

/** The fault test runs without retention, so every log starts at offset 0 and stays dense. */
function checkGaps(facts: PartitionFacts, out: Violation[]): void {
  if (facts.finalOffsets.size === 0) return;
  const offsets = [...facts.finalOffsets].sort((a, b) => a - b);
  const byOffset = new Map<number, FinalReadEvent>();
  for (const e of facts.finalEvents) if (!byOffset.has(e.offset)) byOffset.set(e.offset, e);
  let expected = 0;
  let before: FinalReadEvent | undefined;
  for (const o of offsets) {
    const at = byOffset.get(o)!;
    if (o > expected) {
      const hole = o - 1 === expected ? `offset ${expected}` : `offsets ${expected}..${o - 1}`;
      out.push({ kind: 'gap', message: `${tp(facts)}: the final read has no record at ${hole}`, events: before ? [before, at] : [at] });
    }
    expected = o + 1;
    before = at;
  }
}

function checkLostAcks(acks: readonly AckEvent[], partitions: Map<string, PartitionFacts>, out: Violation[]): void {
  for (const ack of acks) {
    const facts = partitions.get(partitionKey(ack.topic, ack.partition))!;
    const atOffset = facts.offsets.get(ack.offset)!;
    if (atOffset.get(ack.id)?.final) continue;
    const standing = [...atOffset.entries()].filter(([, s]) => s.final).map(([id, s]) => ({ id, event: s.final! }));
    let why: string;
    if (standing.length > 0) why = `${standing.map((s) => s.id).join(', ')} stands there instead`;
    else if (facts.end === 0) why = `the final read of ${tp(facts)} holds nothing (was it read at all?)`;
    else if (ack.offset >= facts.end) why = `the final read ends at offset ${facts.end - 1}`;
    else why = 'the final read has a hole there';
    out.push({
      kind: 'lost-ack',
      message: `${tp(ack)} offset ${ack.offset}: acknowledged record ${ack.id} (producer ${ack.producer}) is lost: ${why}`,
      events: sortBySeq([ack, ...standing.map((s) => s.event)]),
    });
  }
}

/**
 * With idempotence a record is in the log at most once, acknowledged or not: a failed send
 * may have been appended (the client cannot know), but a retry must not append it again.
 */
function checkDuplicates(
  firstPlace: Map<string, { place: string; event: ReadEvent | FinalReadEvent }>,
  morePlaces: Map<string, Map<string, ReadEvent | FinalReadEvent>>,
  sends: Map<string, SendEvent>,
  failed: Map<string, SendFailedEvent>,
  out: Violation[],
): void {
  for (const [id, more] of morePlaces) {
    const seen = [firstPlace.get(id)!.event, ...more.values()];
    const where = seen.map((e) => `${tp(e)}@${e.offset}`).join(', ');
    const fate = failed.has(id) ? ` (its send failed: ${failed.get(id)!.code})` : '';
    const context = [sends.get(id), failed.get(id)].filter((x) => x !== undefined);
    out.push({ kind: 'duplicate', message: `record ${id}${fate} is in the log at ${seen.length} places: ${where}`, events: sortBySeq([...context, ...seen]) });
  }
}

/** An idempotent producer keeps send order within a partition, retries included. */
function checkAckOrder(acks: readonly AckEvent[], sends: Map<string, SendEvent>, out: Violation[]): void {
  const streams = new Map<string, { sendSeq: number; ack: AckEvent }[]>();
  for (const ack of acks) {
    const key = `${ack.producer}\u0000${partitionKey(ack.topic, ack.partition)}`;
    let stream = streams.get(key);
    if (!stream) {
      stream = [];
      streams.set(key, stream);
    }
    stream.push({ sendSeq: sends.get(ack.id)?.seq ?? ack.seq, ack });
  }
  for (const stream of streams.values()) {
    stream.sort((a, b) => a.sendSeq - b.sendSeq || a.ack.seq - b.ack.seq);
    // Compared with the neighbour, not the running maximum, so one misplaced ack is one
    // violation rather than one for every ack after it.
    for (let i = 1; i < stream.length; i++) {
      const prev = stream[i - 1]!.ack;
      const cur = stream[i]!.ack;
      if (cur.offset > prev.offset) continue;
      const context = [sends.get(prev.id), sends.get(cur.id)].filter((x) => x !== undefined);
      out.push({
        kind: 'ack-order',
        message: `${tp(cur)}: producer ${cur.producer} sent ${prev.id} before ${cur.id}, but they were acknowledged at offsets ${prev.offset} and ${cur.offset}`,
        events: sortBySeq([...context, prev, cur]),
      });
    }
  }
}

interface EpochSnapshot {
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly event: ElectionEvent | StateEvent;
}

/**
 * A leader epoch is never reused (fencing and KIP-101 truncation rely on it), and a partition
 * epoch names one committed state (it is the compare-and-set version). Elections and state
 * observations both say which (partition epoch, leader epoch, leader) were committed, so both
 * are checked: a controller restart that loses an election record still leaves states behind.
 */
function checkEpochs(facts: PartitionFacts, out: Violation[]): void {
  const snapshots: EpochSnapshot[] = [...facts.elections, ...facts.states].map((event) => ({
    leader: event.leader,
    leaderEpoch: event.leaderEpoch,
    partitionEpoch: event.partitionEpoch,
    event,
  }));
  if (snapshots.length === 0) return;

  // One leader per leader epoch, and one election per leader epoch (an election that did not bump
  // the epoch reuses it even when it picks the same leader). Identical records are one election.
  const byLeaderEpoch = new Map<number, { leaders: Map<number, HistoryEvent>; electionPartitionEpochs: Map<number, HistoryEvent> }>();
  // One leader epoch per partition epoch.
  const byPartitionEpoch = new Map<number, Map<number, HistoryEvent>>();
  for (const s of snapshots) {
    let le = byLeaderEpoch.get(s.leaderEpoch);
    if (!le) {
      le = { leaders: new Map(), electionPartitionEpochs: new Map() };
      byLeaderEpoch.set(s.leaderEpoch, le);
    }
    if (!le.leaders.has(s.leader)) le.leaders.set(s.leader, s.event);
    if (s.event.type === 'election' && !le.electionPartitionEpochs.has(s.partitionEpoch)) le.electionPartitionEpochs.set(s.partitionEpoch, s.event);
    let pe = byPartitionEpoch.get(s.partitionEpoch);
    if (!pe) {
      pe = new Map();
      byPartitionEpoch.set(s.partitionEpoch, pe);
    }
    if (!pe.has(s.leaderEpoch)) pe.set(s.leaderEpoch, s.event);
  }
  for (const [leaderEpoch, { leaders, electionPartitionEpochs }] of byLeaderEpoch) {
    if (leaders.size > 1) {
      out.push({
        kind: 'reused-epoch',
        message: `${tp(facts)}: leader epoch ${leaderEpoch} was given to leaders ${[...leaders.keys()].join(' and ')}`,
        events: sortBySeq(unique([...leaders.values(), ...electionPartitionEpochs.values()])),
      });
    } else if (electionPartitionEpochs.size > 1) {
      out.push({
        kind: 'reused-epoch',
        message: `${tp(facts)}: leader epoch ${leaderEpoch} was used by ${electionPartitionEpochs.size} elections (partition epochs ${[...electionPartitionEpochs.keys()].join(', ')})`,
        events: sortBySeq([...electionPartitionEpochs.values()]),
      });
    }
  }
  for (const [partitionEpoch, leaderEpochs] of byPartitionEpoch) {
    if (leaderEpochs.size > 1) {
      out.push({
        kind: 'reused-epoch',
        message: `${tp(facts)}: partition epoch ${partitionEpoch} names states with leader epochs ${[...leaderEpochs.keys()].join(' and ')}`,
        events: sortBySeq([...leaderEpochs.values()]),
      });
    }
  }
  // Epochs only grow: ordered by partition epoch, leader epochs never go back. Neighbours are
  // compared so that one stray state is one violation.
  const ordered = [...byPartitionEpoch.entries()].sort((a, b) => a[0] - b[0]);
  for (let i = 1; i < ordered.length; i++) {
    const [prevPe, prevByLe] = ordered[i - 1]!;
    const [pe, byLe] = ordered[i]!;
    const [prevLe, prevEvent] = prevByLe.entries().next().value!;
    const [le, event] = byLe.entries().next().value!;
    if (le >= prevLe) continue;
    out.push({
      kind: 'reused-epoch',
      message: `${tp(facts)}: leader epoch went back from ${prevLe} (partition epoch ${prevPe}) to ${le} (partition epoch ${pe})`,
      events: sortBySeq([prevEvent, event]),
    });
  }
}

/**
 * A new leader comes from the committed ISR (DESIGN §6): any other replica may lack acknowledged
 * records. Judged on the election records, and again on state observations for elections whose
 * record was lost or lies about the ISR.
 */
function checkLeadersFromIsr(facts: PartitionFacts, uncleanAllowed: boolean, out: Violation[]): void {
  const reportedEpochs = new Set<number>();
  const flaggedUnclean = new Set<number>();
  for (const e of facts.elections) {
    if (e.unclean) flaggedUnclean.add(e.leaderEpoch);
    if (e.leader === NO_LEADER || e.isrBefore.includes(e.leader)) continue;
    if (uncleanAllowed && e.unclean) continue;
    const why = e.unclean ? 'flagged unclean, but unclean election is not enabled' : 'not flagged unclean';
    out.push({
      kind: 'unclean-leader',
      message: `${tp(e)} leader epoch ${e.leaderEpoch}: leader ${e.leader} is outside the committed ISR [${e.isrBefore.join(',')}] (${why})`,
      events: [e],
    });
    reportedEpochs.add(e.leaderEpoch);
  }

  // Two observations whose partition epochs are consecutive bracket exactly one committed change,
  // so the earlier ISR is the committed ISR that change elected from. With a gap between them an
  // ISR expansion may have come first, and the earlier ISR proves nothing.
  const byPartitionEpoch = new Map<number, StateEvent>();
  for (const s of facts.states) if (!byPartitionEpoch.has(s.partitionEpoch)) byPartitionEpoch.set(s.partitionEpoch, s);
  for (const cur of byPartitionEpoch.values()) {
    const prev = byPartitionEpoch.get(cur.partitionEpoch - 1);
    if (!prev || cur.leader === prev.leader || cur.leader === NO_LEADER || prev.isr.includes(cur.leader)) continue;
    if (reportedEpochs.has(cur.leaderEpoch)) continue;
    if (uncleanAllowed && flaggedUnclean.has(cur.leaderEpoch)) continue;
    out.push({
      kind: 'unclean-leader',
      message: `${tp(cur)} leader epoch ${cur.leaderEpoch}: leader ${cur.leader} took over from ${prev.leader} at partition epoch ${cur.partitionEpoch}, but the committed ISR at partition epoch ${prev.partitionEpoch} was [${prev.isr.join(',')}]`,
      events: sortBySeq([prev, cur]),
    });
  }
}

// ---------------------------------------------------------------------------------------------
// Report

export interface ReportOptions {
  /** Violations printed per kind; the rest are counted. Default 20. */
  readonly maxPerKind?: number;
}

/** The counts checked and every violation (up to maxPerKind per kind) with its evidence. */
export function formatReport(result: HistoryCheckResult, options: ReportOptions = {}): string {
  const maxPerKind = options.maxPerKind ?? 20;
  const c = result.counts;
  const faults = FAULT_KINDS.filter((k) => c.faultsByKind[k] > 0).map((k) => `${c.faultsByKind[k]} ${k}`);
  const lines = [
    result.ok ? 'history check: OK' : `history check: FAILED, ${result.violations.length} violation${result.violations.length === 1 ? '' : 's'}`,
    `checked: ${c.sends} sends, ${c.acks} acks, ${c.failedSends} failed sends, ${c.reads} reads, ${c.finalRecords} final records, ` +
      `${c.elections} elections, ${c.stateObservations} state observations, ${c.faults} faults${faults.length > 0 ? ` (${faults.join(', ')})` : ''}`,
  ];
  for (const kind of VIOLATION_KINDS) {
    const ofKind = result.violations.filter((v) => v.kind === kind);
    if (ofKind.length === 0) continue;
    lines.push('', `${kind} (${ofKind.length}):`);
    for (const v of ofKind.slice(0, maxPerKind)) {
      lines.push(`  ${v.message}`);
      for (const e of v.events) lines.push(`    ${describeEvent(e)}`);
    }
    if (ofKind.length > maxPerKind) lines.push(`  … and ${ofKind.length - maxPerKind} more ${kind}`);
  }
  return lines.join('\n');
}

function describeEvent(e: HistoryEvent): string {
  const { seq, time, type, ...rest } = e;
  return `#${seq} t=${time.toFixed(1)}ms ${type} ${JSON.stringify(rest)}`;
}

// ---------------------------------------------------------------------------------------------

// NUL cannot occur in a topic name, so joined keys never collide.
function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

function tp(x: { readonly topic: string; readonly partition: number }): string {
  return `${x.topic}-${x.partition}`;
}

function sortBySeq<T extends HistoryEvent>(events: T[]): T[] {
  return events.sort((a, b) => a.seq - b.seq);
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

function firstSeq(v: Violation): number {
  return v.events.length === 0 ? 0 : Math.min(...v.events.map((e) => e.seq));
}
