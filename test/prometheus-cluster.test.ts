// Sluice under a real Prometheus (Debian's 2.42): an embedded cluster — controller and three
// brokers as processes — scraped every second, with the shipped alert rules loaded, while an
// acks=all producer and a consumer run on an RF=3 topic with min.insync.replicas=2.
//
// What a user of the dashboard and the alerts relies on, shown through the query API:
// * every /metrics endpoint passes `promtool check metrics` (the operator's too, active and
//   standby, at the end of this file);
// * every dashboard expression (Grafana variables filled in as Grafana would; All namespaces,
//   `namespace=~".*"`, matches these series, which have no namespace label) returns series with a
//   number in them, and none for another namespace; every alert expression returns series once
//   its conditions are turned into values (seriesProof: `x > 0` -> `x > bool 0`, `absent(x)` ->
//   `x`), and Prometheus evaluates every rule without an error;
// * a SIGKILLed broker makes the under-replicated expression return the topic's partitions (its
//   alert goes pending), with HW lag and the dead follower's replica lag visible; once it is back
//   they clear;
// * two brokers down make a partition offline and refuse acks=all writes on the RF=3 topic; an
//   unclean election brings the partition back, its alert fires at once and the dashboard's
//   "Unclean elections" stat goes from 0 to 1.
// Expressions over counters of events that only the faults produce (leader elections) return
// series only after them: the healthy phase lists them, the last test requires them.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Admin, Consumer, Producer } from '../client/index.ts';
import { silentLogger } from '../common/logger.ts';
import { BROKER_SELECTOR, KubeFixture, NAMESPACE } from '../operator/kubernetes/operator-harness.ts';
import { useTestCluster, waitFor } from './support/cluster.ts';
import { spawnReady, type ReadyProcess } from './support/spawn-ready.ts';
import {
  PrometheusServer,
  RULES_FILE,
  dashboardQueries,
  labelValuesQuery,
  loadAlertRules,
  runPromtool,
  seriesProof,
  substituteGrafana,
  type GrafanaValues,
  type VectorSample,
} from './support/prometheus.ts';

const SESSION_TIMEOUT_MS = 3_000;
const TOPIC = 'orders';
const PARTITIONS = 3;
/** RF=2, unclean election allowed: the partition that goes offline and comes back uncleanly. */
const LAST_RESORT = 'last-resort';
const quiet = silentLogger();

// What Grafana would send with All namespaces, topic "orders" selected and all three brokers
// ticked. The rate window is short because the whole run is: 20 scrapes at 1 s.
const GRAFANA: GrafanaValues = { namespace: '.*', topic: TOPIC, broker: '(0|1|2)', rateInterval: '20s', interval: '5s', range: '10m' };

const getCluster = useTestCluster({ brokers: 3, sessionTimeoutMs: SESSION_TIMEOUT_MS });

// -- load -----------------------------------------------------------------------------------------

/** An idempotent acks=all producer (paced, pausable) and a consumer of every partition of TOPIC. */
class Load {
  acked = 0;
  failed = 0;
  consumed = 0;
  paused = false;
  readonly #producer: Producer<string, string>;
  readonly #consumer: Consumer<string, string>;
  #pending = 0;
  #stopped = false;
  #loops: Promise<void>[] = [];

  constructor(bootstrapServers: string[]) {
    this.#producer = new Producer({
      bootstrapServers, acks: 'all', idempotence: true, lingerMs: 5, keySerializer: 'string', valueSerializer: 'string',
      retryBackoffMs: 100, requestTimeoutMs: 5_000, deliveryTimeoutMs: 20_000, logger: quiet,
    });
    this.#consumer = new Consumer({ bootstrapServers, autoOffsetReset: 'earliest', keyDeserializer: 'string', valueDeserializer: 'string', maxWaitMs: 200, logger: quiet });
  }

  start(): void {
    this.#consumer.assign(Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition })));
    this.#loops = [this.#produce(), this.#consume()];
  }

  async #produce(): Promise<void> {
    let n = 0;
    while (!this.#stopped) {
      // About 500 records/s over the three partitions; a stalled partition pauses the loop
      // instead of growing memory.
      if (!this.paused && this.#pending < 1_000) {
        for (let i = 0; i < 10; i++, n++) {
          this.#pending++;
          this.#producer.send({ topic: TOPIC, key: `key-${n % 31}`, value: `value-${n}` }).then(
            () => this.acked++,
            () => this.failed++,
          ).finally(() => this.#pending--);
        }
      }
      await sleep(20);
    }
  }

  async #consume(): Promise<void> {
    while (!this.#stopped) {
      try {
        this.consumed += (await this.#consumer.poll(200)).length;
      } catch {
        // A leader moving or a broker down: poll again, as an application would.
        await sleep(100);
      }
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    await Promise.allSettled(this.#loops);
    await Promise.allSettled([this.#producer.close({ timeoutMs: 5_000 }), this.#consumer.close()]);
  }
}

// -- the run ----------------------------------------------------------------------------------------

let dir: string;
let prometheus: PrometheusServer | undefined;
let admin: Admin | undefined;
let load: Load | undefined;
let failed = false;

beforeAll(async () => {
  const cluster = getCluster();
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-prom-cluster-'));
  admin = new Admin({ bootstrapServers: cluster.bootstrapServers, logger: quiet });
  // Brokers print READY before the controller may count all three as live: retry briefly.
  await waitFor('the topics created', async () => {
    await admin!.createTopic({ name: TOPIC, partitions: PARTITIONS, replicationFactor: 3, config: { 'min.insync.replicas': 2 } });
    return true;
  }, 20_000, 300);
  await waitFor(`topic ${LAST_RESORT} created`, async () => {
    await admin!.createTopic({ name: LAST_RESORT, partitions: 1, replicationFactor: 2, config: { 'min.insync.replicas': 1, 'unclean.leader.election.enable': true } });
    return true;
  }, 20_000, 300);
  // One job for every process, named for nothing in particular: nothing may depend on job names.
  const c = cluster.cluster;
  prometheus = await PrometheusServer.start({
    dir,
    jobs: [{ job: 'whatever', targets: [c.controllerInfo.http, ...c.brokers.map((b) => b.http)] }],
    ruleFiles: [RULES_FILE],
    intervalSeconds: 1,
  });
  load = new Load(cluster.bootstrapServers);
  load.start();
}, 60_000);

afterEach((ctx) => {
  if (ctx.task.result?.state !== 'fail') return;
  failed = true;
  if (prometheus) console.error(`prometheus log (${prometheus.logFile}):\n${prometheus.logTail()}`);
  if (load) console.error(`load: ${load.acked} acknowledged, ${load.failed} failed sends, ${load.consumed} records consumed`);
});

afterAll(async () => {
  await load?.stop();
  await admin?.close();
  await prometheus?.stop();
  if (dir && !failed) fs.rmSync(dir, { recursive: true, force: true });
  else if (dir) console.error(`Prometheus config, TSDB and log kept in ${dir}`);
}, 30_000);

// -- helpers --------------------------------------------------------------------------------------

const describeVector = (v: VectorSample[]): string => (v.length === 0 ? '(no series)' : v.map((s) => `${JSON.stringify(s.metric)} ${s.value[1]}`).join('; '));

/** Waits until `expr` returns a vector `accept` likes; fails naming the last vector seen. */
async function waitForVector(what: string, expr: string, accept: (v: VectorSample[]) => boolean, timeoutMs = 30_000): Promise<VectorSample[]> {
  let last: VectorSample[] = [];
  try {
    return await waitFor(what, async () => {
      last = await prometheus!.vector(expr);
      return accept(last) ? last : undefined;
    }, timeoutMs, 250);
  } catch (err) {
    throw new Error(`${(err as Error).message}\n  query: ${expr}\n  last result: ${describeVector(last)}`);
  }
}

const byPartition = (v: VectorSample[]): Map<string, number> => new Map(v.map((s) => [s.metric.partition!, Number(s.value[1])]));
const allPartitions = Array.from({ length: PARTITIONS }, (_, p) => String(p));
const rules = loadAlertRules();
const rule = (name: string) => rules.find((r) => r.alert === name)!;
const panelExpr = (title: string) => dashboardQueries().find((q) => q.where.startsWith(`panel "${title}" `))!.expr;

interface Alert {
  labels: Record<string, string>;
  state: 'pending' | 'firing';
  value: string;
}
const alerts = async (): Promise<Alert[]> => (await prometheus!.get<{ alerts: Alert[] }>('/api/v1/alerts')).alerts;

interface EvaluationReport {
  /** where: the expression Prometheus ran, for each one that returned no series. */
  empty: Map<string, string>;
  evaluated: number;
}

/**
 * Runs every dashboard expression (label_values variables as their selector, checked to carry
 * the label) and the series proof of every rule; each must parse, and whatever returns series
 * must have a number in them. Returns the expressions that returned nothing.
 */
async function evaluateEverything(): Promise<EvaluationReport> {
  const empty = new Map<string, string>();
  let evaluated = 0;
  for (const q of dashboardQueries()) {
    const lv = labelValuesQuery(q.expr);
    const promql = substituteGrafana(lv ? lv.selector : q.expr, GRAFANA);
    const v = await prometheus!.vector(promql);
    evaluated++;
    if (v.length === 0) {
      empty.set(q.where, promql);
      continue;
    }
    // Scraped outside Kubernetes, no series has a namespace: Grafana offers no value for
    // $namespace but All, which sends `.*` — and every other expression above matched with it.
    if (lv?.label === 'namespace') expect(v.filter((s) => s.metric.namespace !== undefined), `${q.where}: series with a namespace`).toEqual([]);
    else if (lv) expect(v.every((s) => s.metric[lv.label] !== undefined), `${q.where}: every series of ${promql} carries ${lv.label}`).toBe(true);
    else expect(v.some((s) => Number.isFinite(Number(s.value[1]))), `${q.where}: a number among ${describeVector(v)}\n  query: ${promql}`).toBe(true);
  }
  for (const r of rules) {
    const promql = seriesProof(r.expr);
    const v = await prometheus!.vector(promql);
    evaluated++;
    if (v.length === 0) empty.set(`alert ${r.alert}`, promql);
  }
  return { empty, evaluated };
}

/** Where an expression reads nothing but the leader election counter. */
const onlyElections = (promql: string): boolean => {
  const metrics = new Set(promql.match(/\bsluice_[a-z0-9_]+/g) ?? []);
  return metrics.size === 1 && metrics.has('sluice_leader_elections_total');
};

// -- the tests --------------------------------------------------------------------------------------

describe('a cluster under load, scraped by Prometheus', () => {
  it('is scraped on every broker and the controller', async () => {
    interface Target { scrapeUrl: string; health: string; lastError: string }
    const c = getCluster().cluster;
    const wanted = [c.controllerInfo.http, ...c.brokers.map((b) => b.http)].map((a) => `http://${a}/metrics`).sort();
    await waitFor('every target scraped and up', async () => {
      const { activeTargets } = await prometheus!.get<{ activeTargets: Target[] }>('/api/v1/targets');
      const up = activeTargets.filter((t) => t.health === 'up').map((t) => t.scrapeUrl).sort();
      return JSON.stringify(up) === JSON.stringify(wanted) ? true : undefined;
    }, 20_000);
  }, 30_000);

  it('serves /metrics that promtool check metrics finds clean, on every broker and the controller', async () => {
    const c = getCluster().cluster;
    // Per-topic series exist once records went through: lint them too.
    await waitFor('records acknowledged and consumed', () => (load!.acked > 0 && load!.consumed > 0 ? true : undefined), 20_000);
    for (const p of [c.controllerInfo, ...c.brokers]) {
      const text = await (await fetch(`http://${p.http}/metrics`)).text();
      expect(text).toContain(p.role === 'broker' ? `sluice_bytes_in_total{topic="${TOPIC}"` : 'sluice_controller_active 1');
      const r = await runPromtool(['check', 'metrics'], { input: text });
      expect(`${r.stdout}${r.stderr}`, `promtool check metrics on ${p.name} (${p.http})`).toBe('');
      expect(r.code).toBe(0);
    }
  }, 30_000);

  it('answers every dashboard and alert expression with series; the only exceptions count leader elections, which no fault has caused yet', async () => {
    // Wait until the rate windows hold traffic of every kind the panels show.
    for (const expr of [
      `sum(rate(sluice_messages_in_total{topic="${TOPIC}"}[20s])) > 0`,
      `sum(rate(sluice_messages_out_total{topic="${TOPIC}"}[20s])) > 0`,
      `sum(rate(sluice_replication_bytes_in_total{topic="${TOPIC}"}[20s])) > 0`,
      'sum by (method) (rate(sluice_request_duration_seconds_count{method=~"ProduceStream|Produce"}[20s])) > 0',
      'sum by (method) (rate(sluice_request_duration_seconds_count{method="Fetch"}[20s])) > 0',
    ]) {
      await waitForVector(`traffic in Prometheus: ${expr}`, expr, (v) => v.length > 0);
    }
    const dataSeenAt = Date.now();
    const { empty, evaluated } = await evaluateEverything();
    expect(evaluated).toBeGreaterThan(40);
    const unexpected = [...empty].filter(([, promql]) => !onlyElections(promql)).map(([where, promql]) => `${where}: ${promql}`);
    expect(unexpected, 'expressions without series on a healthy cluster under load').toEqual([]);
    // The dashboard of another namespace shows nothing of this cluster: every panel and the topic
    // and broker variables filter by $namespace.
    const elsewhere: string[] = [];
    for (const q of dashboardQueries().filter((x) => x.where !== 'variable $namespace')) {
      const lv = labelValuesQuery(q.expr);
      const promql = substituteGrafana(lv ? lv.selector : q.expr, { ...GRAFANA, namespace: 'elsewhere' });
      if ((await prometheus!.vector(promql)).length > 0) elsewhere.push(`${q.where}: ${promql}`);
    }
    expect(elsewhere, 'expressions with series for namespace "elsewhere"').toEqual([]);
    // No unclean election so far: the stat says 0 (the counters exist at 0 from the start; an
    // increase needs two scrapes of the controller).
    await waitForVector('the "Unclean elections" stat at 0', substituteGrafana(panelExpr('Unclean elections'), GRAFANA), (v) => v.length === 1 && v[0]!.value[1] === '0', 10_000);

    // Printed, so the output says what was left for the last test to show.
    console.log(`${evaluated} expressions evaluated; without series until an election happens:\n${[...empty].map(([where, promql]) => `  ${where}: ${promql.replaceAll(/\s+/g, ' ')}`).join('\n')}`);

    // Prometheus evaluated every rule against these series without an error (a many-to-many
    // match, say, only shows up with real label sets). Evaluations from before the first scrapes
    // (Prometheus scrapes a few seconds after it starts) saw no data and do not count.
    interface RuleGroup { rules: { name: string; health: string; lastError?: string; lastEvaluation: string }[] }
    const evaluatedRules = await waitFor('every rule evaluated since the data was there', async () => {
      const { groups } = await prometheus!.get<{ groups: RuleGroup[] }>('/api/v1/rules');
      const all = groups.flatMap((g) => g.rules);
      return all.length === rules.length && all.every((r) => Date.parse(r.lastEvaluation) > dataSeenAt) ? all : undefined;
    }, 10_000);
    expect(evaluatedRules.filter((r) => r.health !== 'ok').map((r) => `${r.name}: ${r.health} ${r.lastError}`)).toEqual([]);
    // And none of the replication or controller alerts is even pending. (The disk alerts read the
    // file system of the machine running the test, which may well be full.)
    const raised = (await alerts()).filter((a) => !a.labels.alertname!.startsWith('SluiceLogDir'));
    expect(raised.map((a) => `${a.labels.alertname} ${a.state}`)).toEqual([]);
  }, 60_000);

  it('shows the partitions of a SIGKILLed broker under-replicated, with HW lag and its replica lag, and clears them when it is back', async () => {
    const c = getCluster().cluster;
    const before = await admin!.describeTopic(TOPIC);
    const victim = before.partitions.find((p) => p.partition === 0)!.leader;
    const killedAt = Date.now();
    await c.killBroker(victim, 'SIGKILL');

    // The alert's own expression names the topic with every partition counted: each had a
    // replica on the victim.
    const urp = await waitForVector('the under-replicated alert expression to count every partition of the topic', rule('SluiceUnderReplicatedPartitions').expr,
      (v) => v.some((s) => s.metric.topic === TOPIC && Number(s.value[1]) === PARTITIONS));
    expect(urp.map((s) => s.metric.topic)).toContain(TOPIC);
    // The dashboard's per-partition view says which ones, and the ISR that is left.
    const perPartition = await prometheus!.vector(substituteGrafana('max by (topic, partition) (sluice_partition_under_replicated{topic=~"$topic", broker=~"$broker"}) == 1', GRAFANA));
    expect([...byPartition(perPartition).keys()].sort()).toEqual(allPartitions);
    const isr = await waitForVector('ISR size 2 on every partition', substituteGrafana('max by (topic, partition) (sluice_partition_isr_size{topic=~"$topic", broker=~"$broker"})', GRAFANA),
      (v) => v.length === PARTITIONS && v.every((s) => s.value[1] === '2'));
    expect(byPartition(isr)).toEqual(new Map(allPartitions.map((p) => [p, 2])));
    // The alert is pending (for: 10m), with the topic as its label.
    await waitFor('SluiceUnderReplicatedPartitions pending for the topic', async () =>
      (await alerts()).some((a) => a.labels.alertname === 'SluiceUnderReplicatedPartitions' && a.labels.topic === TOPIC && a.state === 'pending') ? true : undefined, 10_000);

    // Replica lag: the leaders that kept their leadership see the dead follower fall behind as
    // records keep being committed without it.
    const victimLag = `max by (topic, partition, replica) (sluice_replica_lag_messages{topic="${TOPIC}", replica="${victim}"})`;
    const lagging = await waitForVector(`broker ${victim}'s replica lag growing`, victimLag, (v) => v.some((s) => Number(s.value[1]) > 100));
    const peakLag = Math.max(...lagging.map((s) => Number(s.value[1])));
    // HW lag: until the victim was out of the ISR, the leaders it followed appended acks=all
    // records they could not commit. The dashboard panel's expression over the kill window:
    const windowSeconds = Math.ceil((Date.now() - killedAt) / 1000) + 2;
    const hwLag = await prometheus!.vector(substituteGrafana(`max_over_time((max by (topic, partition) (sluice_partition_hw_lag_messages{topic=~"$topic", broker=~"$broker"}))[${windowSeconds}s:1s])`, GRAFANA));
    expect(hwLag.filter((s) => Number(s.value[1]) > 0).length, `HW lag above 0 since the kill: ${describeVector(hwLag)}`).toBeGreaterThan(0);

    await c.startBroker(victim);
    await waitForVector('the under-replicated alert expression empty again', rule('SluiceUnderReplicatedPartitions').expr, (v) => v.length === 0);
    await waitForVector('ISR size 3 on every partition', substituteGrafana('max by (topic, partition) (sluice_partition_isr_size{topic=~"$topic", broker=~"$broker"})', GRAFANA),
      (v) => v.length === PARTITIONS && v.every((s) => s.value[1] === '3'));
    await waitForVector(`broker ${victim}'s replica lag back below a tenth of its peak (${peakLag})`, victimLag, (v) => v.length > 0 && v.every((s) => Number(s.value[1]) < peakLag / 10));
    await waitFor('SluiceUnderReplicatedPartitions no longer pending', async () =>
      (await alerts()).some((a) => a.labels.alertname === 'SluiceUnderReplicatedPartitions') ? undefined : true, 10_000);

    // With the producer paused, nothing is in flight: both lags are exactly 0 on every partition.
    load!.paused = true;
    try {
      await waitForVector('replica lag 0 everywhere', `max(sluice_replica_lag_messages{topic="${TOPIC}"})`, (v) => v.length === 1 && v[0]!.value[1] === '0');
      await waitForVector('HW lag 0 everywhere', `max(sluice_partition_hw_lag_messages{topic="${TOPIC}"})`, (v) => v.length === 1 && v[0]!.value[1] === '0');
    } finally {
      load!.paused = false;
    }
  }, 90_000);

  it('shows an offline partition, acks=all writes refused under min ISR, and an unclean election whose alert fires at once', async () => {
    const c = getCluster().cluster;
    const state = await waitFor(`both replicas of ${LAST_RESORT}-0 in its ISR`, async () => {
      const p = (await admin!.describeTopic(LAST_RESORT)).partitions[0]!;
      return p.leader >= 0 && p.isr.length === 2 ? p : undefined;
    }, 30_000);
    const leader = state.leader;
    const follower = state.replicas.find((r) => r !== leader)!;
    const third = [0, 1, 2].find((b) => b !== leader && b !== follower)!;

    // The follower dies first and is fenced: out of the ISR, the leader goes on alone.
    await c.killBroker(follower, 'SIGKILL');
    await waitForVector('one fenced broker on the dashboard', 'max(sluice_brokers{state="fenced"} and on (instance) (sluice_controller_active == 1))', (v) => v[0]?.value[1] === '1', SESSION_TIMEOUT_MS + 15_000);
    // Then the leader, the last in-sync replica: nothing can lead the partition.
    await c.killBroker(leader, 'SIGKILL');
    const offline = await waitForVector('the offline-partitions alert expression to count the partition', rule('SluiceOfflinePartitions').expr, (v) => v.length === 1, SESSION_TIMEOUT_MS + 15_000);
    expect(offline[0]!.value[1]).toBe('1');
    // The RF=3 topic keeps a leader on the third broker but only one in-sync replica, below its
    // min.insync.replicas of 2: every partition refuses acks=all writes.
    const underMinIsr = await waitForVector('the under-min-ISR alert expression to count every partition of the topic', rule('SluiceUnderMinIsrPartitions').expr,
      (v) => v.some((s) => s.metric.topic === TOPIC && Number(s.value[1]) === PARTITIONS), SESSION_TIMEOUT_MS + 15_000);
    expect(underMinIsr.find((s) => s.metric.topic === TOPIC)).toBeDefined();
    const leaders = await prometheus!.vector('sluice_broker_leader_partitions > 0');
    expect(leaders.map((s) => s.metric.broker), 'brokers leading partitions').toEqual([String(third)]);
    await waitFor('SluiceOfflinePartitions and SluiceUnderMinIsrPartitions pending', async () => {
      const names = new Set((await alerts()).map((a) => a.labels.alertname));
      return names.has('SluiceOfflinePartitions') && names.has('SluiceUnderMinIsrPartitions') ? true : undefined;
    }, 10_000);

    // The follower comes back. It is not in the ISR, but the topic allows an unclean election: it
    // becomes leader, and the alert fires at once, the first unclean election the controller
    // counts included.
    await c.startBroker(follower);
    const unclean = await waitForVector('the unclean-election alert expression', rule('SluiceUncleanLeaderElection').expr, (v) => v.length > 0);
    expect(unclean[0]!.value[1]).toBe('1');
    const firing = await waitFor('SluiceUncleanLeaderElection firing', async () =>
      (await alerts()).find((a) => a.labels.alertname === 'SluiceUncleanLeaderElection' && a.state === 'firing'), 10_000);
    expect(firing.labels).toMatchObject({ severity: 'critical' });
    // The dashboard's stat counts it over its time range.
    await waitForVector('the "Unclean elections" stat at 1', substituteGrafana(panelExpr('Unclean elections'), GRAFANA), (v) => v.length === 1 && v[0]!.value[1] === '1');
    await waitForVector('the offline partition back', rule('SluiceOfflinePartitions').expr, (v) => v.length === 0);

    await c.startBroker(leader);
    await waitForVector('every partition of both topics fully replicated again', 'sum(max by (topic, partition) (sluice_partition_under_replicated))', (v) => v[0]?.value[1] === '0', 45_000);
  }, 120_000);

  it('after the faults, answers every dashboard and alert expression with series, the election counters included', async () => {
    // The recovery above took elections of several reasons, one of them unclean, and the load
    // kept running: every rate window holds data again.
    await waitForVector('traffic in the last 20 s', `sum(rate(sluice_messages_in_total{topic="${TOPIC}"}[20s])) > 0`, (v) => v.length > 0);
    const { empty } = await evaluateEverything();
    expect([...empty].map(([where, promql]) => `${where}: ${promql}`), 'expressions without series').toEqual([]);
    expect(load!.acked, 'records acknowledged over the run').toBeGreaterThan(1_000);
  }, 60_000);
});

// -- the operator -----------------------------------------------------------------------------------

describe('the Kubernetes operator\'s /metrics', () => {
  type Proc = ReadyProcess;
  let fx: KubeFixture | undefined;
  let opDir: string;
  const procs: Proc[] = [];

  async function startOperator(identity: string, kubeconfig: string): Promise<Proc> {
    const proc = await spawnReady({
      name: `operator ${identity}`,
      script: path.join(import.meta.dirname, '../operator/kubernetes/operator-main.ts'),
      args: [
        '--kubeconfig', kubeconfig, '--namespace', NAMESPACE, '--broker-selector', BROKER_SELECTOR,
        '--host', '127.0.0.1', '--port', '0', '--http-port', '0', '--identity', identity,
        '--lease-duration-ms', '3000', '--renew-deadline-ms', '2000', '--retry-period-ms', '250',
      ],
      logFile: path.join(opDir, `${identity}.log`),
    });
    procs.push(proc);
    return proc;
  }

  beforeAll(async () => {
    opDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-prom-operator-'));
    fx = await KubeFixture.start();
    const kubeconfig = path.join(opDir, 'kubeconfig');
    fs.writeFileSync(kubeconfig, fx.kubeConfig.exportConfig());
    await Promise.all(['operator-a', 'operator-b'].map((id) => startOperator(id, kubeconfig)));
  }, 30_000);

  afterAll(async () => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await fx?.stop();
    if (opDir) fs.rmSync(opDir, { recursive: true, force: true });
  }, 20_000);

  it('is clean for promtool check metrics on the active operator and on the standby, which reports empty state', async () => {
    const scrape = async (p: Proc) => (await fetch(`http://${p.ready.http}/metrics`)).text();
    // One of the two takes the Lease; the other stays a standby.
    const texts = await waitFor('one active operator and one standby', async () => {
      const t = await Promise.all(procs.map(scrape));
      const active = t.filter((x) => /^sluice_controller_active 1$/m.test(x)).length;
      const standby = t.filter((x) => /^sluice_controller_active 0$/m.test(x)).length;
      return active === 1 && standby === 1 ? t : undefined;
    }, 20_000);
    const standby = texts.find((x) => /^sluice_controller_active 0$/m.test(x))!;
    expect(standby).toMatch(/^sluice_offline_partitions 0$/m);
    expect(standby).toMatch(/^sluice_brokers\{state="active"\} 0$/m);
    for (const [i, text] of texts.entries()) {
      expect(text).toContain('# TYPE sluice_operator_reconcile_duration_seconds histogram');
      const r = await runPromtool(['check', 'metrics'], { input: text });
      expect(`${r.stdout}${r.stderr}`, `promtool check metrics on operator ${i}`).toBe('');
      expect(r.code).toBe(0);
    }
  }, 40_000);
});
