import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HistoryRecorder, type HistoryEventBody } from './history.ts';
import { checkHistory, formatReport, type CheckOptions, type HistoryCheckResult, type ViolationKind } from './history-checker.ts';

const T = 'orders';

/**
 * A small history with nothing wrong, touching every rule: two partitions, a leader failover
 * (broker 0 killed, broker 1 elected from the ISR), a failed send that did reach the log, one
 * that did not, one still in flight at the end, and consumers reading below HW.
 */
function cleanBodies(): HistoryEventBody[] {
  return [
    { type: 'state', topic: T, partition: 0, leader: 0, leaderEpoch: 0, partitionEpoch: 0, isr: [0, 1, 2] },
    { type: 'state', topic: T, partition: 1, leader: 1, leaderEpoch: 0, partitionEpoch: 0, isr: [0, 1] },
    { type: 'send', producer: 'p1', id: 'a', topic: T, partition: 0, key: 'k1' },
    { type: 'ack', producer: 'p1', id: 'a', topic: T, partition: 0, offset: 0 },
    { type: 'fault', kind: 'kill', target: 'broker-0' },
    { type: 'election', topic: T, partition: 0, leader: 1, leaderEpoch: 1, partitionEpoch: 1, isrBefore: [0, 1, 2], unclean: false, reason: 'fenced' },
    { type: 'state', topic: T, partition: 0, leader: 1, leaderEpoch: 1, partitionEpoch: 1, isr: [1, 2] },
    { type: 'send', producer: 'p1', id: 'b', topic: T, key: null },
    { type: 'ack', producer: 'p1', id: 'b', topic: T, partition: 0, offset: 1 },
    { type: 'send', producer: 'p1', id: 'c', topic: T, partition: 0, key: 'k1' },
    { type: 'send-failed', producer: 'p1', id: 'c', code: 'NOT_ENOUGH_REPLICAS' },
    { type: 'send', producer: 'p2', id: 'd', topic: T, partition: 1, key: 'k2' },
    { type: 'ack', producer: 'p2', id: 'd', topic: T, partition: 1, offset: 0 },
    { type: 'fault', kind: 'pause', target: 'broker-2' },
    { type: 'send', producer: 'p2', id: 'e', topic: T, partition: 1, key: 'k2' },
    { type: 'send-failed', producer: 'p2', id: 'e', code: 'TIMEOUT' },
    { type: 'fault', kind: 'resume', target: 'broker-2' },
    { type: 'fault', kind: 'restart-controller', target: 'controller' },
    { type: 'send', producer: 'p1', id: 'z', topic: T, partition: 0, key: 'k1' },
    { type: 'read', consumer: 'c1', topic: T, partition: 0, offset: 0, id: 'a', highWatermark: 2 },
    { type: 'read', consumer: 'c1', topic: T, partition: 0, offset: 1, id: 'b', highWatermark: 2 },
    { type: 'read', consumer: 'c2', topic: T, partition: 1, offset: 0, id: 'd', highWatermark: 2 },
    { type: 'read', consumer: 'c2', topic: T, partition: 1, offset: 1, id: 'e', highWatermark: 2 },
    { type: 'final-read', topic: T, partition: 0, offset: 0, id: 'a' },
    { type: 'final-read', topic: T, partition: 0, offset: 1, id: 'b' },
    { type: 'final-read', topic: T, partition: 1, offset: 0, id: 'd' },
    { type: 'final-read', topic: T, partition: 1, offset: 1, id: 'e' },
  ];
}

function recordAll(bodies: readonly HistoryEventBody[]): HistoryRecorder {
  let t = 0;
  const rec = new HistoryRecorder({ now: () => (t += 1.5) });
  for (const b of bodies) rec.record(b);
  return rec;
}

function check(bodies: readonly HistoryEventBody[], options?: CheckOptions): HistoryCheckResult {
  return checkHistory(recordAll(bodies).events, options);
}

function kinds(result: HistoryCheckResult): ViolationKind[] {
  return result.violations.map((v) => v.kind).sort();
}

/** Replaces the first body matching `where` (which must exist) with `replace(body)`. */
function edit(bodies: HistoryEventBody[], where: (b: HistoryEventBody) => boolean, replace: (b: HistoryEventBody) => HistoryEventBody | undefined): HistoryEventBody[] {
  const i = bodies.findIndex(where);
  if (i < 0) throw new Error('edit: no such event in the base history');
  const next = replace(bodies[i]!);
  return next === undefined ? [...bodies.slice(0, i), ...bodies.slice(i + 1)] : [...bodies.slice(0, i), next, ...bodies.slice(i + 1)];
}

const isFinal = (partition: number, offset: number) => (b: HistoryEventBody) => b.type === 'final-read' && b.partition === partition && b.offset === offset;
const isRead = (partition: number, offset: number) => (b: HistoryEventBody) => b.type === 'read' && b.partition === partition && b.offset === offset;

describe('checkHistory on a clean history', () => {
  // e (failed) is in the log once, c (failed) and z (no outcome) are not: none of that is wrong.
  it('passes, failed and unfinished sends included, and counts what it checked', () => {
    const result = check(cleanBodies());
    expect(result.violations).toEqual([]);
    expect(result.ok).toBe(true);
    expect(result.counts).toEqual({
      sends: 6,
      acks: 3,
      failedSends: 2,
      reads: 4,
      finalRecords: 4,
      elections: 1,
      stateObservations: 3,
      faults: 4,
      faultsByKind: { kill: 1, pause: 1, resume: 1, 'restart-broker': 0, 'restart-controller': 1 },
    });
  });

  it('accepts an election observed twice and a state observed repeatedly (a restarted controller re-logs them)', () => {
    const bodies = cleanBodies();
    const again = bodies.filter((b) => b.type === 'election' || b.type === 'state');
    expect(check([...bodies, ...again]).ok).toBe(true);
  });

  it('accepts a consumer reading the same offset twice (after a seek) and one record read by two consumers', () => {
    const bodies = cleanBodies();
    const read = bodies.find(isRead(0, 1))!;
    expect(check([...bodies, read, { ...read, consumer: 'c9' } as HistoryEventBody]).ok).toBe(true);
  });
});

describe('checkHistory finds each violation in a history that has only that fault', () => {
  it('lost-ack: an acknowledged record is missing from the final read', () => {
    const result = check(edit(cleanBodies(), isFinal(0, 1), () => undefined));
    expect(kinds(result)).toEqual(['lost-ack']);
    expect(result.ok).toBe(false);
    expect(result.violations[0]!.message).toContain('acknowledged record b');
    expect(result.violations[0]!.events.map((e) => e.type)).toEqual(['ack']);
  });

  it('lost-ack: a partition with acks has no final read at all', () => {
    // Its reads go too: a read record missing at the end is a violation of its own.
    const bodies = cleanBodies().filter((b) => !((b.type === 'final-read' || b.type === 'read') && b.partition === 1));
    const result = check(bodies);
    expect(kinds(result)).toEqual(['lost-ack']);
    expect(result.violations[0]!.message).toContain('holds nothing');
  });

  it('lost-ack and conflicting-offset: another record stands at the acknowledged offset', () => {
    // One fault, two broken properties: the ack is lost, and offset 1 named two records.
    const result = check(edit(cleanBodies(), isFinal(0, 1), (b) => ({ ...b, id: 'c' }) as HistoryEventBody));
    expect(kinds(result)).toEqual(['conflicting-offset', 'lost-ack']);
    expect(result.violations.find((v) => v.kind === 'lost-ack')!.message).toContain('c stands there instead');
  });

  it('conflicting-offset: a consumer read a different record than the one acknowledged and still there', () => {
    const result = check(edit(cleanBodies(), isRead(0, 1), (b) => ({ ...b, id: 'c' }) as HistoryEventBody));
    expect(kinds(result)).toEqual(['conflicting-offset']);
    expect(result.violations[0]!.events.map((e) => e.type)).toEqual(['ack', 'read', 'final-read']);
  });

  it('conflicting-offset: a record consumers read (committed) is gone from the end of the log', () => {
    // e was never acknowledged, so this is not lost-ack; but it was read below HW.
    const result = check(edit(cleanBodies(), isFinal(1, 1), () => undefined));
    expect(kinds(result)).toEqual(['conflicting-offset']);
    expect(result.violations[0]!.message).toContain('vanished');
  });

  it('duplicate: a failed send appears twice in the log', () => {
    const result = check([...cleanBodies(), { type: 'final-read', topic: T, partition: 1, offset: 2, id: 'e' }]);
    expect(kinds(result)).toEqual(['duplicate']);
    expect(result.violations[0]!.message).toContain('its send failed: TIMEOUT');
    // The send and its failure are evidence too: the report shows the record's whole life.
    expect(result.violations[0]!.events.map((e) => e.type)).toEqual(['send', 'send-failed', 'read', 'final-read']);
  });

  it('duplicate: an acknowledged record appears again, in another partition', () => {
    const result = check([...cleanBodies(), { type: 'final-read', topic: T, partition: 1, offset: 2, id: 'a' }]);
    expect(kinds(result)).toEqual(['duplicate']);
  });

  it('changed-record: two consumers got different records at one offset', () => {
    const result = check([...cleanBodies(), { type: 'read', consumer: 'c3', topic: T, partition: 0, offset: 0, id: 'c', highWatermark: 2 }]);
    // Folded: not also reported as conflicting-offset although the final read disagrees as well.
    expect(kinds(result)).toEqual(['changed-record']);
  });

  it('read-above-hw: a record at or above the HW of its own fetch reply', () => {
    const result = check(edit(cleanBodies(), isRead(0, 1), (b) => ({ ...b, highWatermark: 1 }) as HistoryEventBody));
    expect(kinds(result)).toEqual(['read-above-hw']);
  });

  it('ack-order: a producer’s records acknowledged out of send order', () => {
    // a was sent first but sits at offset 1, b at offset 0: consistent everywhere except order.
    const bodies = cleanBodies().map((b) => {
      if ((b.type === 'ack' || b.type === 'read' || b.type === 'final-read') && b.partition === 0) return { ...b, offset: 1 - b.offset } as HistoryEventBody;
      return b;
    });
    const result = check(bodies);
    expect(kinds(result)).toEqual(['ack-order']);
    expect(result.violations[0]!.message).toContain('sent a before b');
  });

  it.each([
    ['the same leader epoch for another leader', { leader: 2, leaderEpoch: 1, partitionEpoch: 2, isrBefore: [1, 2] }, 'given to leaders 1 and 2'],
    ['an election that did not bump the leader epoch', { leader: 1, leaderEpoch: 1, partitionEpoch: 2, isrBefore: [1, 2] }, 'used by 2 elections'],
    ['a leader epoch going back', { leader: 0, leaderEpoch: 0, partitionEpoch: 2, isrBefore: [0, 1, 2] }, 'went back from 1'],
  ])('reused-epoch: %s', (_name, change, message) => {
    const election: HistoryEventBody = { type: 'election', topic: T, partition: 0, unclean: false, reason: 'fenced', ...change };
    const result = check([...cleanBodies(), election]);
    expect(kinds(result)).toEqual(['reused-epoch']);
    expect(result.violations[0]!.message).toContain(message);
  });

  it('reused-epoch: one partition epoch observed with two leader epochs', () => {
    const result = check([...cleanBodies(), { type: 'state', topic: T, partition: 0, leader: 1, leaderEpoch: 2, partitionEpoch: 1, isr: [1, 2] }]);
    expect(kinds(result)).toEqual(['reused-epoch']);
    expect(result.violations[0]!.message).toContain('partition epoch 1 names states with leader epochs 1 and 2');
  });

  it('unclean-leader: an election outside the committed ISR not flagged unclean', () => {
    const election: HistoryEventBody = { type: 'election', topic: T, partition: 1, leader: 2, leaderEpoch: 1, partitionEpoch: 1, isrBefore: [0, 1], unclean: false, reason: 'fenced' };
    const result = check([...cleanBodies(), election]);
    expect(kinds(result)).toEqual(['unclean-leader']);
    // Also with unclean elections allowed: the controller did not say it was unclean.
    expect(kinds(check([...cleanBodies(), election], { uncleanElectionAllowed: true }))).toEqual(['unclean-leader']);
  });

  it('unclean-leader: a flagged unclean election fails unless unclean election is allowed', () => {
    const election: HistoryEventBody = { type: 'election', topic: T, partition: 1, leader: 2, leaderEpoch: 1, partitionEpoch: 1, isrBefore: [0, 1], unclean: true, reason: 'unclean_enabled' };
    expect(kinds(check([...cleanBodies(), election]))).toEqual(['unclean-leader']);
    expect(check([...cleanBodies(), election], { uncleanElectionAllowed: true }).ok).toBe(true);
  });

  it('unclean-leader: seen only in consecutive state observations (the election record was lost)', () => {
    const state: HistoryEventBody = { type: 'state', topic: T, partition: 1, leader: 2, leaderEpoch: 1, partitionEpoch: 1, isr: [2] };
    const result = check([...cleanBodies(), state]);
    expect(kinds(result)).toEqual(['unclean-leader']);
    expect(result.violations[0]!.message).toContain('committed ISR at partition epoch 0 was [0,1]');
  });

  it('unclean-leader: an election record and the states showing it are one violation, not two', () => {
    const bodies: HistoryEventBody[] = [
      ...cleanBodies(),
      { type: 'election', topic: T, partition: 1, leader: 2, leaderEpoch: 1, partitionEpoch: 1, isrBefore: [0, 1], unclean: false, reason: 'fenced' },
      { type: 'state', topic: T, partition: 1, leader: 2, leaderEpoch: 1, partitionEpoch: 1, isr: [2] },
    ];
    expect(kinds(check(bodies))).toEqual(['unclean-leader']);
  });

  it('unclean-leader: an election record that lies about the ISR is caught by the states', () => {
    const bodies: HistoryEventBody[] = [
      ...cleanBodies(),
      { type: 'election', topic: T, partition: 1, leader: 2, leaderEpoch: 1, partitionEpoch: 1, isrBefore: [0, 1, 2], unclean: false, reason: 'fenced' },
      { type: 'state', topic: T, partition: 1, leader: 2, leaderEpoch: 1, partitionEpoch: 1, isr: [2] },
    ];
    expect(kinds(check(bodies))).toEqual(['unclean-leader']);
  });

  it('gap: the final read has a hole below its end', () => {
    const bodies: HistoryEventBody[] = [
      ...cleanBodies(),
      { type: 'send', producer: 'p2', id: 'x', topic: T, partition: 1, key: null },
      { type: 'send-failed', producer: 'p2', id: 'x', code: 'TIMEOUT' },
      { type: 'final-read', topic: T, partition: 1, offset: 4, id: 'x' },
    ];
    const result = check(bodies);
    expect(kinds(result)).toEqual(['gap']);
    expect(result.violations[0]!.message).toBe(`${T}-1: the final read has no record at offsets 2..3`);
  });
});

describe('checkHistory does not mistake normal histories for faults', () => {
  it('does not judge a leader change across non-consecutive state observations (the ISR may have grown in between)', () => {
    const bodies: HistoryEventBody[] = [
      ...cleanBodies(),
      // ISR expansion to [0,1,2] at partition epoch 1 was not observed; then 2 was elected.
      { type: 'state', topic: T, partition: 1, leader: 2, leaderEpoch: 1, partitionEpoch: 2, isr: [1, 2] },
    ];
    expect(check(bodies).ok).toBe(true);
  });

  it('accepts a partition going offline and coming back with the last ISR member', () => {
    const bodies: HistoryEventBody[] = [
      ...cleanBodies(),
      { type: 'election', topic: T, partition: 1, leader: -1, leaderEpoch: 1, partitionEpoch: 1, isrBefore: [1], unclean: false, reason: 'fenced' },
      { type: 'state', topic: T, partition: 1, leader: -1, leaderEpoch: 1, partitionEpoch: 1, isr: [1] },
      { type: 'election', topic: T, partition: 1, leader: 1, leaderEpoch: 2, partitionEpoch: 2, isrBefore: [1], unclean: false, reason: 'registered' },
      { type: 'state', topic: T, partition: 1, leader: 1, leaderEpoch: 2, partitionEpoch: 2, isr: [1] },
    ];
    expect(check(bodies).ok).toBe(true);
  });

  it('accepts epochs that jump (a controller restored from its previous good copy skips past a lost change)', () => {
    const bodies: HistoryEventBody[] = [
      ...cleanBodies(),
      { type: 'state', topic: T, partition: 0, leader: 2, leaderEpoch: 5, partitionEpoch: 5, isr: [2] },
    ];
    expect(check(bodies).ok).toBe(true);
  });

  it('accepts clean simulated histories of any shape', () => {
    fc.assert(
      fc.property(
        fc.record({
          seed: fc.integer(),
          partitions: fc.integer({ min: 1, max: 4 }),
          producers: fc.integer({ min: 1, max: 4 }),
          consumers: fc.integer({ min: 0, max: 3 }),
          steps: fc.integer({ min: 0, max: 300 }),
        }),
        (params) => {
          const result = checkHistory(simulateCleanHistory(params).events);
          expect(formatReport(result)).toMatch(/^history check: OK/);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('checkHistory at the size of a real run', () => {
  it('checks a 200k-event history in linear time', () => {
    const rec = simulateCleanHistory({ seed: 42, partitions: 6, producers: 4, consumers: 3, steps: 120_000 });
    expect(rec.size).toBeGreaterThanOrEqual(200_000);
    const started = performance.now();
    const result = checkHistory(rec.events);
    const elapsed = performance.now() - started;
    expect(result.ok).toBe(true);
    expect(result.counts.elections).toBeGreaterThanOrEqual(10);
    // Linear work takes a few hundred ms here; a quadratic step would take minutes. The bound is
    // loose so a slow, busy CI machine cannot make it flaky.
    expect(elapsed).toBeLessThan(5_000);
  });
});

describe('HistoryRecorder', () => {
  it('stamps events with a strictly increasing seq and the clock', () => {
    let now = 100;
    const rec = new HistoryRecorder({ now: () => (now += 0.25) });
    const first = rec.record({ type: 'fault', kind: 'kill', target: 'broker-1' });
    const second = rec.record({ type: 'fault', kind: 'resume', target: 'broker-1' });
    expect([first.seq, second.seq]).toEqual([0, 1]);
    expect([first.time, second.time]).toEqual([100.25, 100.5]);
    expect(rec.events).toEqual([first, second]);
  });

  it('keeps what was recorded even when the caller later changes its arrays', () => {
    const rec = new HistoryRecorder();
    const isr = [0, 1, 2];
    rec.record({ type: 'state', topic: T, partition: 0, leader: 0, leaderEpoch: 0, partitionEpoch: 0, isr });
    isr.pop();
    const state = rec.events[0]!;
    expect(state.type === 'state' && state.isr).toEqual([0, 1, 2]);
  });

  it('round-trips through JSONL and a file, and the re-checked result is the same', () => {
    const original = recordAll(edit(cleanBodies(), isFinal(0, 1), () => undefined));
    const parsed = HistoryRecorder.fromJSONL(original.toJSONL());
    expect(parsed.events).toEqual(original.events);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-history-'));
    try {
      const file = path.join(dir, 'run-1', 'history.jsonl');
      original.save(file);
      const loaded = HistoryRecorder.load(file);
      expect(checkHistory(loaded.events)).toEqual(checkHistory(original.events));
      // Recording continues after the loaded events.
      expect(loaded.record({ type: 'fault', kind: 'kill', target: 'broker-0' }).seq).toBe(original.size);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it.each([
    ['{"seq":0,"time":1,"type":"ack"', 'line 2: not JSON'],
    ['{"seq":0,"time":1,"type":"nope"}', 'line 2: unknown event type "nope"'],
    ['{"seq":0,"time":1,"type":"ack","producer":"p","id":"a","topic":"t","partition":0}', 'line 2: ack event lacks "offset"'],
    ['{"seq":0,"time":1,"type":"read","consumer":"c","topic":"t","partition":0,"offset":"3","id":"a","highWatermark":4}', 'field "offset" is "3", expected int'],
    ['{"seq":0,"time":1,"type":"fault","kind":"reboot","target":"broker-0"}', 'field "kind" is "reboot"'],
    ['{"seq":0,"time":1,"type":"send","producer":"p","id":"a","topic":"t","key":null,"partition":1.5}', 'field "partition" is 1.5'],
  ])('rejects a malformed line with its line number: %s', (line, message) => {
    const good = '{"seq":0,"time":1,"type":"fault","kind":"kill","target":"broker-0"}';
    expect(() => HistoryRecorder.fromJSONL(`${good}\n${line}\n`)).toThrow(message);
  });

  it('rejects a history whose seq goes back (two files concatenated)', () => {
    const text = recordAll(cleanBodies()).toJSONL();
    expect(() => HistoryRecorder.fromJSONL(text + text)).toThrow(`line ${cleanBodies().length + 1}: seq 0 does not follow`);
  });
});

describe('formatReport', () => {
  it('prints the counts, and each violation with its kind, message and evidence', () => {
    const report = formatReport(check(edit(cleanBodies(), isFinal(0, 1), () => undefined)));
    expect(report).toContain('history check: FAILED, 1 violation');
    expect(report).toContain('checked: 6 sends, 3 acks, 2 failed sends, 4 reads, 3 final records, 1 elections, 3 state observations, 4 faults (1 kill, 1 pause, 1 resume, 1 restart-controller)');
    expect(report).toContain('lost-ack (1):');
    expect(report).toMatch(/#8 t=13\.5ms ack \{"producer":"p1","id":"b","topic":"orders","partition":0,"offset":1\}/);
  });

  it('prints at most maxPerKind violations of a kind and counts the rest', () => {
    const bodies = cleanBodies().filter((b) => b.type !== 'final-read');
    const report = formatReport(check(bodies), { maxPerKind: 1 });
    expect(report).toContain('lost-ack (3):');
    expect(report).toContain('… and 2 more lost-ack');
  });
});

// ---------------------------------------------------------------------------------------------

/** Deterministic PRNG (mulberry32), so a simulated history is reproducible from its seed. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * A history of a cluster that does everything right: records appended in send order, failed
 * sends sometimes in the log (once), consumers reading in order below a lagging HW, ISR shrinks
 * and expands, failovers to an ISR member with both epochs bumped, and a final read of every log.
 */
function simulateCleanHistory(p: { seed: number; partitions: number; producers: number; consumers: number; steps: number }): HistoryRecorder {
  const random = rng(p.seed);
  const pick = <X>(xs: readonly X[]): X => xs[Math.floor(random() * xs.length)]!;
  const rec = new HistoryRecorder();
  const logs: string[][] = [];
  const hws: number[] = [];
  const states: { leader: number; leaderEpoch: number; partitionEpoch: number; isr: number[] }[] = [];
  for (let part = 0; part < p.partitions; part++) {
    logs.push([]);
    hws.push(0);
    states.push({ leader: part % 3, leaderEpoch: 0, partitionEpoch: 0, isr: [0, 1, 2] });
    rec.record({ type: 'state', topic: T, partition: part, ...states[part]!, isr: [...states[part]!.isr] });
  }
  const sent = new Array<number>(p.producers).fill(0);
  const positions = Array.from({ length: p.consumers }, () => new Array<number>(p.partitions).fill(0));

  for (let step = 0; step < p.steps; step++) {
    const part = Math.floor(random() * p.partitions);
    const log = logs[part]!;
    const r = random();
    if (r < 0.5) {
      const producer = Math.floor(random() * p.producers);
      const id = `p${producer}-${sent[producer]!++}`;
      rec.record({ type: 'send', producer: `p${producer}`, id, topic: T, ...(random() < 0.5 ? { partition: part } : {}), key: null });
      const fate = random();
      if (fate < 0.85) {
        log.push(id);
        rec.record({ type: 'ack', producer: `p${producer}`, id, topic: T, partition: part, offset: log.length - 1 });
      } else if (fate < 0.9) {
        log.push(id);
        rec.record({ type: 'send-failed', producer: `p${producer}`, id, code: 'TIMEOUT' });
      } else if (fate < 0.97) {
        rec.record({ type: 'send-failed', producer: `p${producer}`, id, code: 'NOT_ENOUGH_REPLICAS' });
      } // else: still in flight when the run ends, never appended
    } else if (r < 0.6) {
      hws[part] = log.length;
    } else if (r < 0.9 && p.consumers > 0) {
      const consumer = Math.floor(random() * p.consumers);
      const position = positions[consumer]!;
      if (position[part]! < hws[part]!) {
        const offset = position[part]!++;
        rec.record({ type: 'read', consumer: `c${consumer}`, topic: T, partition: part, offset, id: log[offset]!, highWatermark: hws[part]! });
      }
    } else {
      const s = states[part]!;
      const followers = [0, 1, 2].filter((b) => b !== s.leader);
      if (random() < 0.5) {
        // Failover to an ISR member other than the old leader, which leaves the ISR.
        const candidates = s.isr.filter((b) => b !== s.leader);
        if (candidates.length === 0) continue;
        const isrBefore = [...s.isr];
        const leader = pick(candidates);
        rec.record({ type: 'fault', kind: 'kill', target: `broker-${s.leader}` });
        s.isr = s.isr.filter((b) => b !== s.leader);
        s.leader = leader;
        s.leaderEpoch++;
        s.partitionEpoch++;
        rec.record({ type: 'election', topic: T, partition: part, leader, leaderEpoch: s.leaderEpoch, partitionEpoch: s.partitionEpoch, isrBefore, unclean: false, reason: 'fenced' });
      } else {
        // ISR shrink or expand: partition epoch only.
        const f = pick(followers);
        s.isr = s.isr.includes(f) ? s.isr.filter((b) => b !== f) : [...s.isr, f].sort();
        s.partitionEpoch++;
      }
      // States are observed only now and then, so consecutive observations are the exception.
      if (random() < 0.7) rec.record({ type: 'state', topic: T, partition: part, ...s, isr: [...s.isr] });
    }
  }
  for (let part = 0; part < p.partitions; part++) {
    logs[part]!.forEach((id, offset) => rec.record({ type: 'final-read', topic: T, partition: part, offset, id }));
  }
  return rec;
}
