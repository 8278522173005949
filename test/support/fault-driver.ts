// The DESIGN §12 fault run: a cluster under steady load — idempotent acks=all producers, consumers
// reading every partition, an observer of the controller's committed partition state — while a
// schedule SIGKILLs partition leaders, SIGSTOPs a follower past the replica lag time and restarts
// the controller. Everything observed goes into a HistoryRecorder for history-checker.ts to
// judge. What the checker has no event for comes back as `problems`: a bounded wait that ran out
// (no new leader, writes never resumed, a broker that never rejoined the ISR), a corrupt batch
// served, a library consumer that skipped or misread records.
//
// Every wait is bounded and the run has a time budget: faults stop being injected when the budget
// runs low, and the wind-down (heal, settle sends, converge, read everything) is bounded too, so a
// broken cluster fails the test with a message instead of hanging it. The caller owns the cluster
// (useTestCluster starts it with faultClusterOptions and stops every process, even on failure);
// this file stops every client it opened.
import * as fs from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { Consumer, Producer, isSluiceError } from '../../client/index.ts';
import { fromErrorDetail, fromServiceError } from '../../common/grpc-errors.ts';
import { silentLogger } from '../../common/logger.ts';
import { GRPC_CHANNEL_OPTIONS, loadSluiceProto } from '../../common/proto.ts';
import { NO_LEADER } from '../../operator/core/election.ts';
import type { AdminServiceClient } from '../../proto/gen/sluice/v1/AdminService.ts';
import type { DescribeReplicasResponse__Output } from '../../proto/gen/sluice/v1/DescribeReplicasResponse.ts';
import type { DescribeTopicResponse__Output } from '../../proto/gen/sluice/v1/DescribeTopicResponse.ts';
import type { FetchResponse__Output } from '../../proto/gen/sluice/v1/FetchResponse.ts';
import type { LogServiceClient } from '../../proto/gen/sluice/v1/LogService.ts';
import type { PartitionState__Output } from '../../proto/gen/sluice/v1/PartitionState.ts';
import type { TestCluster, TestClusterOptions } from './cluster.ts';
import { HistoryRecorder, type ElectionEvent, type FaultKind, type HistoryEvent } from './history.ts';
import { RawBroker, splitBatches, unary } from './raw-grpc.ts';

export interface FaultScenario {
  readonly topic: string;
  readonly partitions: number;
  readonly brokers: number;
  readonly replicationFactor: number;
  readonly minInsyncReplicas: number;
  readonly producers: number;
  /** Records each producer sends per second: paced, so two cores keep up with three brokers. */
  readonly recordsPerSecond: number;
  /** Consumers that fetch over raw gRPC: each read carries the exact HW of the reply that returned it. */
  readonly rawConsumers: number;
  /**
   * Consumers built on the client library's Consumer. Its fetcher drops records at or above the
   * HW of their reply and does not say which reply a record came from, so their reads cannot be
   * judged against a HW and are not `read` events; they are checked here instead: every offset
   * once, in order, with the record the final read holds there.
   */
  readonly clientConsumers: number;
  readonly leaderKills: number;
  /** SIGSTOP a follower just before this kill (0-based); null: never. */
  readonly pauseFollowerBeforeKill: number | null;
  /** Restart the controller (SIGKILL) right after this kill's SIGKILL, before the election; null: never. */
  readonly restartControllerDuringKill: number | null;
  /** Controller --session-timeout-ms: how long a SIGKILLed leader keeps its partitions. */
  readonly sessionTimeoutMs: number;
  /** Broker --replica-lag-time-max-ms; left out of the broker arguments when undefined. */
  readonly replicaLagTimeMaxMs?: number;
  /** Load without faults before the first one. */
  readonly warmupMs: number;
  /** Load without faults between two fault steps. */
  readonly dwellMs: number;
  /** How often the controller's committed state is sampled. */
  readonly stateIntervalMs: number;
  /** Bound of the whole run; no fault is started once less than windDownMs of it remains. */
  readonly timeBudgetMs: number;
  readonly windDownMs: number;
  /** Where the history is saved (always, also when the run throws), for re-checking a failure. */
  readonly historyFile: string;
}

export const DEFAULT_FAULT_SCENARIO: Omit<FaultScenario, 'historyFile'> = {
  topic: 'fault-log',
  partitions: 3,
  brokers: 3,
  replicationFactor: 3,
  minInsyncReplicas: 2,
  producers: 3,
  recordsPerSecond: 100,
  rawConsumers: 2,
  clientConsumers: 1,
  leaderKills: 10,
  pauseFollowerBeforeKill: 3,
  restartControllerDuringKill: 6,
  // Short, so a SIGKILLed leader is fenced (and a new one elected) in seconds; the lag time below
  // it, so a paused follower is usually shrunk out of the ISR by its leader before it is fenced.
  sessionTimeoutMs: 3_000,
  replicaLagTimeMaxMs: 1_500,
  warmupMs: 4_000,
  dwellMs: 1_000,
  stateIntervalMs: 50,
  timeBudgetMs: 240_000,
  windDownMs: 75_000,
};

export interface FaultRunResult {
  readonly events: readonly HistoryEvent[];
  readonly historyFile: string;
  /** Empty when every bounded wait ended in time and the library consumers saw the final log. */
  readonly problems: readonly string[];
  /** One line per step, with the time since the run started. */
  readonly timeline: readonly string[];
  readonly kills: number;
  /** Leader changes seen in the controller's committed state (elections whose log line was lost included). */
  readonly leaderChanges: number;
  readonly durationMs: number;
}

/** The cluster a scenario needs; pass to useTestCluster. */
export function faultClusterOptions(s: Pick<FaultScenario, 'brokers' | 'sessionTimeoutMs' | 'replicaLagTimeMaxMs'>): TestClusterOptions {
  const lag = s.replicaLagTimeMaxMs === undefined ? [] : ['--replica-lag-time-max-ms', String(s.replicaLagTimeMaxMs)];
  return { brokers: s.brokers, sessionTimeoutMs: s.sessionTimeoutMs, brokerArgs: lag };
}

/** Runs the scenario on a started cluster; the history is saved to s.historyFile however it ends. */
export async function runFaultScenario(cluster: TestCluster, s: FaultScenario): Promise<FaultRunResult> {
  const run = new FaultRun(cluster, s);
  try {
    await run.execute();
  } finally {
    await run.close();
    run.history.save(s.historyFile);
  }
  return run.result();
}

/** Timeline and problems, for the test output. */
export function describeRun(r: FaultRunResult): string {
  const lines = [`fault run: ${(r.durationMs / 1000).toFixed(1)} s, ${r.kills} leader kills, ${r.leaderChanges} leader changes observed`, ...r.timeline.map((l) => `  ${l}`)];
  if (r.problems.length > 0) lines.push(`problems (${r.problems.length}):`, ...r.problems.map((p) => `  ${p}`));
  return lines.join('\n');
}

// ---------------------------------------------------------------------------------------------

// Our own clients reconnect within a second of a restarted process listening again: gRPC's
// default backoff (up to 2 minutes) would make a healed cluster look dead to the observer.
const CHANNEL_OPTIONS: grpc.ChannelOptions = {
  ...GRPC_CHANNEL_OPTIONS,
  'grpc.initial_reconnect_backoff_ms': 100,
  'grpc.max_reconnect_backoff_ms': 1_000,
};

const RPC_TIMEOUT_MS = 2_000;
const FETCH_WAIT_MS = 250;
const FETCH_MAX_BYTES = 1 << 20;
/** Distinct keys per producer: enough that the default partitioner spreads them over every partition. */
const KEYS = 31;
/** Producers send every 20 ms: small steady bursts, as from a busy application. */
const SEND_TICK_MS = 20;
/** Sends a producer may have unsettled: a stalled partition pauses it instead of growing memory. */
const MAX_PENDING_SENDS = 500;
/** Problems of one kind listed one by one; the rest are counted. */
const MAX_LISTED = 10;

// Bounds of the waits inside a step. Generous next to what a healthy cluster needs (a few
// seconds), because two cores also run the rest of the suite.
const HEALTHY_TIMEOUT_MS = 30_000;
const ELECTION_MARGIN_MS = 15_000;
const RESUME_TIMEOUT_MS = 20_000;
const REJOIN_TIMEOUT_MS = 30_000;

const quiet = silentLogger();

interface PartitionView {
  readonly partition: number;
  readonly replicas: readonly number[];
  readonly leader: number;
  readonly leaderEpoch: number;
  readonly partitionEpoch: number;
  readonly isr: readonly number[];
}

function logClient(address: string): LogServiceClient {
  const { proto } = loadSluiceProto();
  return new proto.sluice.v1.LogService(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
}

function adminClient(address: string): AdminServiceClient {
  const { proto } = loadSluiceProto();
  return new proto.sluice.v1.AdminService(address, grpc.credentials.createInsecure(), CHANNEL_OPTIONS);
}

function errorCode(err: unknown): string {
  if (isSluiceError(err)) return err.code;
  if (typeof (err as { code?: unknown })?.code === 'number') return fromServiceError(err).code;
  return 'UNKNOWN';
}

function countInto(counts: Map<string, number>, key: string): void {
  counts.set(key, (counts.get(key) ?? 0) + 1);
}

function formatCounts(counts: ReadonlyMap<string, number>): string {
  return counts.size === 0 ? 'none' : [...counts].map(([k, n]) => `${n} ${k}`).join(', ');
}

/** Resolves with `promise`, or with undefined after timeoutMs (the timer is cleared either way). */
async function within<T>(promise: Promise<T>, timeoutMs: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([promise, new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), Math.max(0, timeoutMs))))]);
  } finally {
    clearTimeout(timer);
  }
}

class WaitTimeout extends Error {}

// ---------------------------------------------------------------------------------------------
// The controller's committed state, sampled, and its election log lines.

class ControllerView {
  readonly #admin: AdminServiceClient;
  readonly #topic: string;
  readonly #history: HistoryRecorder;
  readonly #intervalMs: number;
  readonly #elections: ElectionLogTail;
  readonly #latest = new Map<number, PartitionView>();
  readonly #recordedKey = new Map<number, string>();
  #loop: Promise<void> | undefined;
  #stopped = false;
  leaderChanges = 0;
  /** Why the last DescribeTopic failed, for "no state seen yet" messages. */
  lastError = '';

  constructor(controllerAddress: string, controllerLog: string, topic: string, history: HistoryRecorder, intervalMs: number, onProblem: (p: string) => void) {
    this.#admin = adminClient(controllerAddress);
    this.#topic = topic;
    this.#history = history;
    this.#intervalMs = intervalMs;
    this.#elections = new ElectionLogTail(controllerLog, topic, onProblem);
  }

  start(): void {
    this.#loop ??= (async () => {
      while (!this.#stopped) {
        await this.#sample();
        await sleep(this.#intervalMs);
      }
    })();
  }

  partition(p: number): PartitionView | undefined {
    return this.#latest.get(p);
  }

  get admin(): AdminServiceClient {
    return this.#admin;
  }

  /** One observation: the committed state of every partition, then any new election lines. */
  async #sample(): Promise<void> {
    try {
      const res = await unary<DescribeTopicResponse__Output>((md, opts, cb) => this.#admin.DescribeTopic({ name: this.#topic }, md, opts, cb), RPC_TIMEOUT_MS);
      for (const p of res.topic?.partitions ?? []) this.#observe(p);
    } catch (err) {
      // The controller is restarting, or the topic is not created yet: the next sample will tell.
      this.lastError = (err as Error).message;
    }
    for (const e of this.#elections.read()) this.#history.record(e);
  }

  #observe(p: PartitionState__Output): void {
    const view: PartitionView = {
      partition: p.partition,
      replicas: [...p.replicas],
      leader: p.leader,
      leaderEpoch: p.leader_epoch,
      partitionEpoch: p.partition_epoch,
      isr: [...p.isr],
    };
    const { replicas: _replicas, ...state } = view;
    const previous = this.#latest.get(p.partition);
    this.#latest.set(p.partition, view);
    // Only changes are recorded: the checker needs each committed state once, and a sample every
    // 50 ms of an unchanged state would be most of the history.
    const key = `${view.leader}/${view.leaderEpoch}/${view.partitionEpoch}/${view.isr.join(',')}`;
    if (this.#recordedKey.get(p.partition) === key) return;
    this.#recordedKey.set(p.partition, key);
    if (previous && view.leader !== NO_LEADER && view.leader !== previous.leader) this.leaderChanges++;
    this.#history.record({ type: 'state', topic: this.#topic, ...state });
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#loop;
    // Election lines written since the last sample still belong in the history.
    for (const e of this.#elections.read()) this.#history.record(e);
    this.#admin.close();
  }
}

/**
 * Follows the controller's log file (it survives restarts: each new process appends) and turns
 * its election lines into election events. operator/local/controller-server.ts logs one line per
 * election with the record under `election` (operator/core/election-history.ts): the committed
 * ISR the leader was chosen from is only known there, at election time.
 */
class ElectionLogTail {
  readonly #file: string;
  readonly #topic: string;
  readonly #onProblem: (p: string) => void;
  #position = 0;
  #partial = '';
  #malformed = 0;

  constructor(file: string, topic: string, onProblem: (p: string) => void) {
    this.#file = file;
    this.#topic = topic;
    this.#onProblem = onProblem;
  }

  read(): ElectionEvent[] {
    let text: string;
    try {
      const fd = fs.openSync(this.#file, 'r');
      try {
        const size = fs.fstatSync(fd).size;
        if (size <= this.#position) return [];
        const buf = Buffer.alloc(size - this.#position);
        const n = fs.readSync(fd, buf, 0, buf.length, this.#position);
        this.#position += n;
        text = this.#partial + buf.subarray(0, n).toString('utf8');
      } finally {
        fs.closeSync(fd);
      }
    } catch {
      return [];
    }
    const lines = text.split('\n');
    // The last piece has no newline yet: the controller is still writing it.
    this.#partial = lines.pop() ?? '';
    const out: ElectionEvent[] = [];
    for (const line of lines) {
      if (!line.startsWith('{') || !line.includes('"election"')) continue;
      const event = this.#parse(line);
      if (event) out.push(event);
    }
    return out;
  }

  #parse(line: string): ElectionEvent | undefined {
    let rec: { partitionEpoch?: unknown; election?: Record<string, unknown> };
    try {
      rec = JSON.parse(line) as typeof rec;
    } catch {
      return undefined;
    }
    const e = rec.election;
    if (typeof e !== 'object' || e === null || e['topic'] !== this.#topic) return undefined;
    const ints = [e['partition'], e['leader'], e['leaderEpoch'], rec.partitionEpoch];
    const isr = e['committedIsr'];
    if (!ints.every(Number.isSafeInteger) || !Array.isArray(isr) || !isr.every(Number.isSafeInteger) || typeof e['unclean'] !== 'boolean') {
      // A format change would otherwise silently turn off the unclean-leader check on elections.
      if (this.#malformed++ < MAX_LISTED) this.#onProblem(`controller election line not understood (fields changed?): ${line.slice(0, 300)}`);
      return undefined;
    }
    return {
      type: 'election',
      topic: this.#topic,
      partition: e['partition'] as number,
      leader: e['leader'] as number,
      leaderEpoch: e['leaderEpoch'] as number,
      partitionEpoch: rec.partitionEpoch as number,
      isrBefore: isr as number[],
      unclean: e['unclean'],
      reason: String(e['reason']),
    };
  }
}

// ---------------------------------------------------------------------------------------------
// Load

class ProducerWorker {
  readonly name: string;
  readonly #producer: Producer;
  readonly #topic: string;
  readonly #history: HistoryRecorder;
  readonly #onAck: (partition: number) => void;
  readonly #perTick: number;
  readonly #pending = new Set<string>();
  #seq = 0;
  #timer: NodeJS.Timeout | undefined;
  /** Outcomes that arrived after stop() had given up on the send: the client broke close()'s promise. */
  lateOutcomes = 0;

  constructor(name: string, bootstrapServers: string[], topic: string, recordsPerSecond: number, history: HistoryRecorder, onAck: (partition: number) => void) {
    this.name = name;
    this.#topic = topic;
    this.#history = history;
    this.#onAck = onAck;
    this.#perTick = Math.max(1, Math.round((recordsPerSecond * SEND_TICK_MS) / 1000));
    this.#producer = new Producer({
      bootstrapServers,
      clientId: name,
      acks: 'all',
      idempotence: true,
      lingerMs: 5,
      // A request to a dead or paused leader is abandoned (and retried elsewhere) after 5 s
      // rather than the default 30 s, so writes resume soon after an election.
      requestTimeoutMs: 5_000,
      retryBackoffMs: 50,
      metadataMaxAgeMs: 5_000,
      deliveryTimeoutMs: 60_000,
      logger: quiet,
    });
  }

  async start(): Promise<void> {
    await this.#producer.connect();
    this.#timer = setInterval(() => this.#tick(), SEND_TICK_MS);
  }

  #tick(): void {
    for (let i = 0; i < this.#perTick && this.#pending.size < MAX_PENDING_SENDS; i++) this.#send();
  }

  #send(): void {
    const seq = this.#seq++;
    const id = `${this.name}-${String(seq).padStart(6, '0')}`;
    const key = `k${seq % KEYS}`;
    // Recorded before send() so the checker sees send order, which an idempotent producer keeps.
    this.#history.record({ type: 'send', producer: this.name, id, topic: this.#topic, key });
    this.#pending.add(id);
    this.#producer.send({ topic: this.#topic, key, value: id }).then(
      (md) => {
        if (!this.#pending.delete(id)) this.lateOutcomes++;
        this.#history.record({ type: 'ack', producer: this.name, id, topic: md.topic, partition: md.partition, offset: md.offset });
        this.#onAck(md.partition);
      },
      (err: unknown) => {
        if (!this.#pending.delete(id)) this.lateOutcomes++;
        this.#history.record({ type: 'send-failed', producer: this.name, id, code: errorCode(err) });
      },
    );
  }

  get sent(): number {
    return this.#seq;
  }

  /** Stops sending, waits up to settleMs for every send to settle, closes; returns how many never settled. */
  async stop(settleMs: number): Promise<number> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await within(this.#producer.flush(), settleMs);
    await this.#producer.close({ timeoutMs: 2_000 });
    // close() rejects what it gave up on; those rejections run as soon as we yield.
    await sleep(10);
    const unsettled = [...this.#pending];
    // The record may or may not be in the log: to the checker that is a failed send.
    for (const id of unsettled) this.#history.record({ type: 'send-failed', producer: this.name, id, code: 'UNSETTLED' });
    this.#pending.clear();
    return unsettled.length;
  }
}

/** Reads every partition from offset 0 with raw Fetch calls to the leader the controller names. */
class RawConsumer {
  readonly name: string;
  readonly #run: FaultRun;
  readonly #clients = new Map<number, LogServiceClient>();
  readonly positions: number[];
  /** Per partition: the highest HW a reply carried. */
  readonly highestHw: number[];
  readonly errors = new Map<string, number>();
  /** The first out-of-range refusals, with what the consumer knew. */
  readonly outOfRange: string[] = [];
  readonly #outOfRangeAt = new Set<string>();
  #loops: Promise<void>[] = [];
  #stopped = false;

  constructor(name: string, run: FaultRun) {
    this.name = name;
    this.#run = run;
    this.positions = Array.from({ length: run.scenario.partitions }, () => 0);
    this.highestHw = Array.from({ length: run.scenario.partitions }, () => 0);
  }

  start(): void {
    this.#loops = this.positions.map((_, p) => this.#loop(p));
  }

  #client(brokerId: number): LogServiceClient {
    let c = this.#clients.get(brokerId);
    if (!c) {
      c = logClient(this.#run.cluster.cluster.broker(brokerId).grpc);
      this.#clients.set(brokerId, c);
    }
    return c;
  }

  async #loop(p: number): Promise<void> {
    const { topic } = this.#run.scenario;
    while (!this.#stopped) {
      const leader = this.#run.view.partition(p)?.leader ?? NO_LEADER;
      if (leader === NO_LEADER) {
        await sleep(50);
        continue;
      }
      const client = this.#client(leader);
      const offset = this.positions[p]!;
      let res: FetchResponse__Output;
      try {
        res = await unary<FetchResponse__Output>(
          (md, opts, cb) => client.Fetch({ partitions: [{ topic, partition: p, fetch_offset: offset, max_bytes: FETCH_MAX_BYTES }], max_wait_ms: FETCH_WAIT_MS, min_bytes: 1, max_bytes: FETCH_MAX_BYTES }, md, opts, cb),
          FETCH_WAIT_MS + 5_000,
        );
      } catch (err) {
        if (this.#stopped) return;
        countInto(this.errors, errorCode(err));
        await sleep(100);
        continue;
      }
      const r = res.partitions.find((x) => x.partition === p);
      const refusal = fromErrorDetail(r?.error);
      if (!r || refusal) {
        // NOT_LEADER and friends while leadership moves; the controller's state catches up.
        countInto(this.errors, refusal?.code ?? 'NO_PARTITION_IN_REPLY');
        // This consumer only asks for offsets some leader already reported committed, so a
        // refusal as out of range says that leader's log or HW is behind the committed end.
        const seenAlready = this.#outOfRangeAt.has(`${p}@${offset}`);
        if (refusal?.code === 'OFFSET_OUT_OF_RANGE' && !seenAlready && this.outOfRange.length < MAX_LISTED) {
          this.#outOfRangeAt.add(`${p}@${offset}`);
          const st = this.#run.view.partition(p);
          this.outOfRange.push(
            `${this.name}: broker ${leader} (leader at epoch ${st?.leaderEpoch} per the controller) refused ${topic}-${p} offset ${offset} as out of range ` +
              `[${refusal.details.logStartOffset}, ${refusal.details.logEndOffset}]; this consumer had read up to ${offset - 1} below an earlier HW of ${this.highestHw[p]}`,
          );
        }
        await sleep(50);
        continue;
      }
      if (r.high_watermark > this.highestHw[p]!) this.highestHw[p] = r.high_watermark;
      let batches;
      try {
        batches = splitBatches(r.records);
      } catch (err) {
        this.#run.problem(`${this.name}: broker ${leader} served a batch of ${topic}-${p} at offset ${offset} that does not decode: ${(err as Error).message}`);
        await sleep(500);
        continue;
      }
      for (const b of batches) {
        for (const rec of b.records) {
          // A fetch starts at the batch holding the offset; its head was read before.
          if (rec.offset < this.positions[p]!) continue;
          // Whatever the broker returned is recorded, above its HW or not: that is what is judged.
          this.#run.history.record({
            type: 'read',
            consumer: this.name,
            topic,
            partition: p,
            offset: rec.offset,
            id: rec.value?.toString('utf8') ?? '<null>',
            highWatermark: r.high_watermark,
          });
          this.positions[p] = rec.offset + 1;
        }
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.all(this.#loops);
    for (const c of this.#clients.values()) c.close();
  }
}

/** The client library's Consumer, reading every partition from offset 0 without ever resetting. */
class ClientConsumer {
  readonly name: string;
  readonly #consumer: Consumer;
  readonly #topic: string;
  /** Per partition: the id read at each offset. */
  readonly ids: string[][];
  readonly next: number[];
  readonly disorder: string[] = [];
  readonly errors = new Map<string, number>();
  #loop: Promise<void> | undefined;
  #stopped = false;

  constructor(name: string, bootstrapServers: string[], topic: string, partitions: number) {
    this.name = name;
    this.#topic = topic;
    this.ids = Array.from({ length: partitions }, () => []);
    this.next = Array.from({ length: partitions }, () => 0);
    // 'none': an out-of-range answer must surface, not silently move the position.
    this.#consumer = new Consumer({ bootstrapServers, clientId: name, autoOffsetReset: 'none', maxWaitMs: FETCH_WAIT_MS, requestTimeoutMs: 5_000, retryBackoffMs: 50, metadataMaxAgeMs: 5_000, logger: quiet });
  }

  async start(): Promise<void> {
    const tps = this.next.map((_, partition) => ({ topic: this.#topic, partition }));
    this.#consumer.assign(tps);
    for (const tp of tps) this.#consumer.seek(tp, 0);
    await this.#consumer.connect();
    this.#loop = this.#run();
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      try {
        for (const r of await this.#consumer.poll(FETCH_WAIT_MS)) {
          const expected = this.next[r.partition]!;
          if (r.offset !== expected && this.disorder.length < MAX_LISTED) {
            this.disorder.push(`${this.name}: ${this.#topic}-${r.partition}: got offset ${r.offset} when ${expected} was next`);
          }
          this.ids[r.partition]![r.offset] = r.value?.toString('utf8') ?? '<null>';
          this.next[r.partition] = r.offset + 1;
        }
      } catch (err) {
        if (this.#stopped) return;
        countInto(this.errors, errorCode(err));
        // A partition error sticks until a seek; resume where this consumer left off.
        const partition = isSluiceError(err) ? err.details.partition : undefined;
        if (partition !== undefined && partition < this.next.length) this.#consumer.seek({ topic: this.#topic, partition }, this.next[partition]!);
        await sleep(100);
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await this.#consumer.close();
    await this.#loop;
  }
}

// ---------------------------------------------------------------------------------------------

class FaultRun {
  readonly cluster: TestCluster;
  readonly scenario: FaultScenario;
  readonly history = new HistoryRecorder();
  readonly view: ControllerView;
  readonly #problems: string[] = [];
  readonly #timeline: string[] = [];
  readonly #startedAt = Date.now();
  /** Date.now() of the last ack per partition: how "writes resumed" is seen. */
  readonly #lastAckAt: number[];
  readonly #producers: ProducerWorker[] = [];
  readonly #rawConsumers: RawConsumer[] = [];
  readonly #clientConsumers: ClientConsumer[] = [];
  readonly #brokerAdmins = new Map<number, AdminServiceClient>();
  #kills = 0;
  #finished: number | undefined;
  #closed = false;

  constructor(cluster: TestCluster, scenario: FaultScenario) {
    this.cluster = cluster;
    this.scenario = scenario;
    this.#lastAckAt = Array.from({ length: scenario.partitions }, () => 0);
    const controller = cluster.cluster.controllerInfo;
    this.view = new ControllerView(cluster.cluster.controllerAddress, controller.logFile, scenario.topic, this.history, scenario.stateIntervalMs, (p) => this.problem(p));
  }

  problem(message: string): void {
    this.#problems.push(`[${this.#elapsed()}] ${message}`);
  }

  #note(message: string): void {
    this.#timeline.push(`[${this.#elapsed()}] ${message}`);
  }

  #elapsed(): string {
    return `+${((Date.now() - this.#startedAt) / 1000).toFixed(1)}s`;
  }

  /** When fault injection must stop so the wind-down still fits the budget. */
  get #faultDeadline(): number {
    return this.#startedAt + this.scenario.timeBudgetMs - this.scenario.windDownMs;
  }

  get #runDeadline(): number {
    return this.#startedAt + this.scenario.timeBudgetMs;
  }

  /** Polls until probe returns a value; undefined and a reason string both mean "not yet". */
  async #waitFor<T>(what: string, probe: () => T | string | undefined, timeoutMs: number, deadline = this.#faultDeadline): Promise<T> {
    const started = Date.now();
    const until = Math.min(started + timeoutMs, Math.max(deadline, started + 1_000));
    let why = '';
    for (;;) {
      const v = probe();
      if (v !== undefined && typeof v !== 'string') return v;
      if (typeof v === 'string') why = v;
      if (Date.now() >= until) {
        const cut = until < started + timeoutMs ? ' (cut short by the time budget)' : '';
        throw new WaitTimeout(`waited ${Date.now() - started} ms${cut} for ${what}${why ? `; last seen: ${why}` : ''}`);
      }
      await sleep(this.scenario.stateIntervalMs);
    }
  }

  #describePartitions(): string {
    return Array.from({ length: this.scenario.partitions }, (_, p) => {
      const s = this.view.partition(p);
      return s ? `p${p} leader ${s.leader} epoch ${s.leaderEpoch} isr [${s.isr.join(',')}]` : `p${p} unknown`;
    }).join('; ');
  }

  /** undefined when every broker runs and every partition has a leader and its full ISR; else what is not. */
  #unhealthy(): string | undefined {
    for (const b of this.cluster.cluster.brokers) {
      if (!b.running) return `broker ${b.id} is not running`;
      if (b.paused) return `broker ${b.id} is paused`;
    }
    for (let p = 0; p < this.scenario.partitions; p++) {
      const s = this.view.partition(p);
      if (!s) return `no committed state of partition ${p} seen yet (${this.view.lastError})`;
      if (s.leader === NO_LEADER || s.isr.length < s.replicas.length) return this.#describePartitions();
    }
    return undefined;
  }

  #waitHealthy(what: string): Promise<true> {
    return this.#waitFor(what, () => this.#unhealthy() ?? true, HEALTHY_TIMEOUT_MS);
  }

  #waitInEveryIsr(broker: number, what: string): Promise<true> {
    return this.#waitFor(what, () => {
      for (let p = 0; p < this.scenario.partitions; p++) {
        const s = this.view.partition(p);
        if (s?.replicas.includes(broker) && !s.isr.includes(broker)) return this.#describePartitions();
      }
      return true;
    }, REJOIN_TIMEOUT_MS);
  }

  #waitAcks(partitions: readonly number[], since: number, what: string): Promise<true> {
    return this.#waitFor(what, () => {
      const stalled = partitions.filter((p) => this.#lastAckAt[p]! <= since);
      return stalled.length === 0 ? true : `no ack yet on partition(s) ${stalled.join(', ')}; ${this.#describePartitions()}`;
    }, RESUME_TIMEOUT_MS);
  }

  #recordFault(kind: FaultKind, target: string): void {
    this.history.record({ type: 'fault', kind, target });
  }

  // -------------------------------------------------------------------------------------------

  async execute(): Promise<void> {
    const s = this.scenario;
    const c = this.cluster;
    this.view.start();
    await this.#createTopic();
    await this.#waitFor(`every partition of "${s.topic}" led with its full ISR`, () => this.#unhealthy() ?? true, HEALTHY_TIMEOUT_MS);
    this.#note(`topic ${s.topic}: ${s.partitions} partitions, RF ${s.replicationFactor}, min.insync.replicas ${s.minInsyncReplicas}; ${this.#describePartitions()}`);

    for (let i = 0; i < s.rawConsumers; i++) this.#rawConsumers.push(new RawConsumer(`raw-c${i + 1}`, this));
    for (let i = 0; i < s.clientConsumers; i++) this.#clientConsumers.push(new ClientConsumer(`lib-c${i + 1}`, c.bootstrapServers, s.topic, s.partitions));
    for (let i = 0; i < s.producers; i++) {
      this.#producers.push(new ProducerWorker(`p${i + 1}`, c.bootstrapServers, s.topic, s.recordsPerSecond, this.history, (p) => (this.#lastAckAt[p] = Date.now())));
    }
    for (const rc of this.#rawConsumers) rc.start();
    await Promise.all(this.#clientConsumers.map((cc) => cc.start()));
    await Promise.all(this.#producers.map((p) => p.start()));
    const loadStarted = Date.now();
    await sleep(s.warmupMs);
    const all = Array.from({ length: s.partitions }, (_, p) => p);
    try {
      await this.#waitAcks(all, loadStarted, 'acks on every partition before the first fault');
      this.#note(`load running: ${s.producers} producers × ${s.recordsPerSecond}/s, ${s.rawConsumers} raw + ${s.clientConsumers} library consumers`);
      await this.#faults();
    } catch (err) {
      if (!(err instanceof WaitTimeout)) throw err;
      this.problem(`fault schedule stopped: ${err.message}`);
    }
    await this.#windDown();
  }

  async #createTopic(): Promise<void> {
    const s = this.scenario;
    const request = {
      name: s.topic,
      partitions: s.partitions,
      replication_factor: s.replicationFactor,
      config: { 'min.insync.replicas': String(s.minInsyncReplicas), 'unclean.leader.election.enable': 'false' },
    };
    // Brokers print READY before the controller may count them all as live: retry a short while.
    let lastError = '';
    const until = Date.now() + 20_000;
    for (;;) {
      try {
        await unary((md, opts, cb) => this.view.admin.CreateTopic(request, md, opts, cb), RPC_TIMEOUT_MS);
        return;
      } catch (err) {
        lastError = (err as Error).message;
      }
      if (Date.now() >= until) throw new Error(`could not create topic ${s.topic} on the controller within 20 s: ${lastError}`);
      await sleep(200);
    }
  }

  async #faults(): Promise<void> {
    const s = this.scenario;
    for (let i = 0; i < s.leaderKills; i++) {
      if (Date.now() >= this.#faultDeadline) {
        this.problem(`time budget ran out after ${i} of ${s.leaderKills} leader kills`);
        return;
      }
      if (i === s.pauseFollowerBeforeKill) {
        await this.#pauseFollower(i % s.partitions);
        await sleep(s.dwellMs);
      }
      await this.#killLeader(i, i % s.partitions, i === s.restartControllerDuringKill);
      await sleep(s.dwellMs);
    }
  }

  async #killLeader(i: number, p: number, restartController: boolean): Promise<void> {
    const s = this.scenario;
    const c = this.cluster.cluster;
    await this.#waitHealthy(`a healthy cluster before kill ${i + 1}`);
    const before = this.view.partition(p)!;
    const victim = before.leader;
    this.#recordFault('kill', `broker-${victim}`);
    const killedAt = Date.now();
    await c.killBroker(victim, 'SIGKILL');
    this.#kills++;
    let how = '';
    if (restartController) {
      // The restarted controller must still fence the dead leader (its liveness restarts from
      // the state file) and elect from the committed ISR it persisted.
      this.#recordFault('restart-controller', 'controller');
      await c.restartController({ signal: 'SIGKILL' });
      how = ', controller restarted (SIGKILL) before the election';
    }
    const after = await this.#waitFor(
      `a new leader of ${s.topic}-${p} after its leader, broker ${victim}, was killed`,
      () => {
        const now = this.view.partition(p);
        return now && now.leader !== NO_LEADER && now.leader !== victim && now.leaderEpoch > before.leaderEpoch ? now : this.#describePartitions();
      },
      s.sessionTimeoutMs + ELECTION_MARGIN_MS + (restartController ? 10_000 : 0),
    );
    const electedAt = Date.now();
    await this.#waitAcks([p], electedAt, `acks on ${s.topic}-${p} from its new leader, broker ${after.leader}`);
    const resumedAt = Date.now();
    this.#recordFault('restart-broker', `broker-${victim}`);
    await c.startBroker(victim);
    await this.#waitInEveryIsr(victim, `broker ${victim} back in every ISR after its restart`);
    this.#note(
      `kill ${i + 1}/${s.leaderKills}: broker ${victim} led ${s.topic}-${p} at epoch ${before.leaderEpoch}${how}; ` +
        `broker ${after.leader} elected at epoch ${after.leaderEpoch} after ${electedAt - killedAt} ms, acks resumed after ${resumedAt - electedAt} ms, ` +
        `restarted broker back in every ISR after ${Date.now() - resumedAt} ms`,
    );
  }

  async #pauseFollower(p: number): Promise<void> {
    const s = this.scenario;
    const c = this.cluster.cluster;
    await this.#waitHealthy('a healthy cluster before pausing a follower');
    const st = this.view.partition(p)!;
    const follower = st.isr.find((b) => b !== st.leader)!;
    this.#recordFault('pause', `broker-${follower}`);
    const pausedAt = Date.now();
    c.pauseBroker(follower);
    let shrunkAfter: number;
    try {
      // Past the lag time whatever happens; then until the controller committed it out of the ISR.
      await sleep(s.replicaLagTimeMaxMs ?? s.sessionTimeoutMs);
      await this.#waitFor(
        `SIGSTOPped follower ${follower} out of the ISR of ${s.topic}-${p}`,
        () => (this.view.partition(p)!.isr.includes(follower) ? this.#describePartitions() : true),
        s.sessionTimeoutMs + ELECTION_MARGIN_MS,
      );
      shrunkAfter = Date.now() - pausedAt;
    } finally {
      this.#recordFault('resume', `broker-${follower}`);
      c.resumeBroker(follower);
    }
    const resumedAt = Date.now();
    await this.#waitInEveryIsr(follower, `broker ${follower} back in every ISR after SIGCONT`);
    this.#note(
      `pause: SIGSTOP broker ${follower} (follower of ${s.topic}-${p}) for ${resumedAt - pausedAt} ms; out of the ISR after ${shrunkAfter} ms ` +
        `(lag time ${s.replicaLagTimeMaxMs ?? '?'} ms, session timeout ${s.sessionTimeoutMs} ms); back in every ISR ${Date.now() - resumedAt} ms after SIGCONT`,
    );
  }

  // -------------------------------------------------------------------------------------------

  async #windDown(): Promise<void> {
    const s = this.scenario;
    const c = this.cluster.cluster;
    const deadline = this.#runDeadline;
    const left = (): number => Math.max(1_000, deadline - Date.now());

    // Heal first, so the in-flight sends have somewhere to go.
    for (const b of c.brokers) {
      try {
        if (b.paused) {
          this.#recordFault('resume', `broker-${b.id}`);
          c.resumeBroker(b.id);
        } else if (!b.running) {
          this.#recordFault('restart-broker', `broker-${b.id}`);
          await c.startBroker(b.id);
        }
      } catch (err) {
        this.problem(`could not heal broker ${b.id}: ${(err as Error).message}`);
      }
    }

    const sent = this.#producers.reduce((n, p) => n + p.sent, 0);
    const unsettled = await Promise.all(this.#producers.map((p) => p.stop(Math.min(30_000, left() / 3))));
    const total = unsettled.reduce((a, b) => a + b, 0);
    this.#note(`producers stopped after ${sent} sends; ${total} never settled`);
    if (total > 0) this.problem(`${total} sends neither acknowledged nor failed 30 s after the producers stopped (recorded as failed sends)`);

    try {
      await this.#waitFor('a healed cluster: every broker back in every ISR', () => this.#unhealthy() ?? true, Math.min(HEALTHY_TIMEOUT_MS, left()), deadline);
      const ends = await this.#converge(left());
      this.#note(`converged: ${ends.map((e, p) => `p${p} HW ${e}`).join(', ')}`);
      // A consumer that cannot get to the end of a healthy log is stuck: something users notice.
      const positions = [...this.#rawConsumers.map((rc) => ({ name: rc.name, at: rc.positions })), ...this.#clientConsumers.map((cc) => ({ name: cc.name, at: cc.next }))];
      await this.#waitFor(
        'every consumer to reach the end of every partition',
        () => {
          const behind = positions.flatMap((c) => c.at.map((pos, p) => (pos < ends[p]! ? `${c.name} at ${pos} of p${p} (HW ${ends[p]})` : ''))).filter(Boolean);
          return behind.length === 0 ? true : behind.join(', ');
        },
        Math.min(15_000, left()),
        deadline,
      );
    } catch (err) {
      if (!(err instanceof WaitTimeout)) throw err;
      this.problem(`wind-down: ${err.message}`);
    }

    await Promise.all([...this.#rawConsumers.map((rc) => rc.stop()), ...this.#clientConsumers.map((cc) => cc.stop())]);
    await this.#finalRead(left());
    await this.view.stop();
    for (const p of this.#producers) {
      if (p.lateOutcomes > 0) this.problem(`producer ${p.name}: ${p.lateOutcomes} sends settled after close() had returned`);
    }
    this.#checkClientConsumers();
    for (const rc of this.#rawConsumers) {
      this.#note(`${rc.name}: read up to ${rc.positions.join('/')}; fetch errors: ${formatCounts(rc.errors)}`);
      for (const o of rc.outOfRange) this.#note(o);
    }
    for (const cc of this.#clientConsumers) this.#note(`${cc.name}: read up to ${cc.next.join('/')}; poll errors: ${formatCounts(cc.errors)}`);
    this.#finished = Date.now();
  }

  #brokerAdmin(id: number): AdminServiceClient {
    let a = this.#brokerAdmins.get(id);
    if (!a) {
      a = adminClient(this.cluster.cluster.broker(id).grpc);
      this.#brokerAdmins.set(id, a);
    }
    return a;
  }

  /**
   * Waits until, for every partition, the broker the controller names leader serves it at the
   * committed epoch, its HW equals its LEO, and every replica's LEO equals it: nothing in flight,
   * nothing uncommitted, so the final read from the leader is the whole log. Returns the HWs.
   */
  async #converge(timeoutMs: number): Promise<number[]> {
    const s = this.scenario;
    const until = Date.now() + timeoutMs;
    let why = '';
    for (;;) {
      const replies = await Promise.all(
        this.cluster.cluster.brokers.map((b) =>
          unary<DescribeReplicasResponse__Output>((md, opts, cb) => this.#brokerAdmin(b.id).DescribeReplicas({}, md, opts, cb), RPC_TIMEOUT_MS).catch((err: unknown) => {
            why = `broker ${b.id}: ${(err as Error).message}`;
            return undefined;
          }),
        ),
      );
      const ends: number[] = [];
      if (replies.every((r) => r !== undefined)) {
        why = '';
        for (let p = 0; p < s.partitions && !why; p++) {
          const st = this.view.partition(p);
          const here = replies.flatMap((r) => r!.replicas.filter((x) => x.topic === s.topic && x.partition === p).map((x) => ({ broker: r!.broker_id, ...x })));
          const leader = here.find((x) => x.broker === st?.leader);
          if (!st || !leader || !leader.is_leader || leader.leader_epoch !== st.leaderEpoch) {
            why = `p${p}: the controller's leader ${st?.leader} at epoch ${st?.leaderEpoch} does not serve it yet`;
          } else if (leader.high_watermark !== leader.log_end_offset || here.some((x) => x.log_end_offset !== leader.log_end_offset) || here.length < st.replicas.length) {
            why = `p${p}: ${here.map((x) => `broker ${x.broker}${x.is_leader ? ' (leader)' : ''} LEO ${x.log_end_offset} HW ${x.high_watermark}`).join(', ')}`;
          } else {
            ends.push(leader.high_watermark);
          }
        }
        if (!why) return ends;
      }
      if (Date.now() >= until) throw new WaitTimeout(`waited ${timeoutMs} ms for every replica to hold the same log with HW = LEO; last seen: ${why}`);
      await sleep(200);
    }
  }

  /** Every partition from offset 0 to its HW, read from its leader; retried while leadership moves. */
  async #finalRead(timeoutMs: number): Promise<void> {
    const s = this.scenario;
    const until = Date.now() + timeoutMs;
    for (let p = 0; p < s.partitions; p++) {
      let lastError = '';
      for (;;) {
        const leader = this.view.partition(p)?.leader ?? NO_LEADER;
        if (leader !== NO_LEADER) {
          const raw = new RawBroker(this.cluster.cluster.broker(leader).grpc);
          try {
            const content = await raw.readAll(s.topic, p, 0);
            // Recorded only once the whole partition was read, so a retry cannot record half a log twice.
            for (const r of content.records) {
              this.history.record({ type: 'final-read', topic: s.topic, partition: p, offset: r.offset, id: r.value?.toString('utf8') ?? '<null>' });
            }
            break;
          } catch (err) {
            lastError = `broker ${leader}: ${(err as Error).message}`;
          } finally {
            raw.close();
          }
        } else {
          lastError = 'no leader';
        }
        if (Date.now() >= until) {
          this.problem(`final read of ${s.topic}-${p} failed: ${lastError}`);
          break;
        }
        // The observer keeps sampling meanwhile (one sampler only: two could record an older
        // state after a newer one), so the next attempt asks the current leader.
        await sleep(200);
      }
    }
  }

  /**
   * What a library consumer must have seen: offsets in order without gaps, and at each offset the
   * record the final read holds there (a record it read that is gone or replaced was committed
   * once — the consumer only gets records below HW — and then lost).
   */
  #checkClientConsumers(): void {
    const s = this.scenario;
    const finals = Array.from({ length: s.partitions }, () => new Map<number, string>());
    for (const e of this.history.events) if (e.type === 'final-read') finals[e.partition]!.set(e.offset, e.id);
    for (const cc of this.#clientConsumers) {
      for (const d of cc.disorder) this.problem(d);
      let listed = 0;
      let mismatches = 0;
      cc.ids.forEach((ids, p) => {
        ids.forEach((id, offset) => {
          const final = finals[p]!.get(offset);
          if (final === id) return;
          mismatches++;
          if (listed++ < MAX_LISTED) this.problem(`${cc.name}: ${s.topic}-${p} offset ${offset}: read ${id}, but the final read holds ${final ?? 'nothing'} there`);
        });
      });
      if (mismatches > MAX_LISTED) this.problem(`${cc.name}: … and ${mismatches - MAX_LISTED} more offsets where it read another record than the final read holds`);
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    // After a wind-down these are no-ops; after a throw they stop what is still running.
    await Promise.allSettled([
      ...this.#producers.map((p) => p.stop(0)),
      ...this.#rawConsumers.map((rc) => rc.stop()),
      ...this.#clientConsumers.map((cc) => cc.stop()),
      this.view.stop(),
    ]);
    for (const a of this.#brokerAdmins.values()) a.close();
    // The harness stops the processes; a broker left SIGSTOPped would only delay that.
    for (const b of this.cluster.cluster.brokers) if (b.paused) this.cluster.cluster.resumeBroker(b.id);
  }

  result(): FaultRunResult {
    return {
      events: this.history.events,
      historyFile: this.scenario.historyFile,
      problems: [...this.#problems],
      timeline: [...this.#timeline],
      kills: this.#kills,
      leaderChanges: this.view.leaderChanges,
      durationMs: (this.#finished ?? Date.now()) - this.#startedAt,
    };
  }
}
