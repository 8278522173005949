// Failover time as an application sees it: while an idempotent acks=all producer sends at a
// steady rate to every partition, the leader of one partition is SIGKILLed; measured is the time
// from the kill to the first acknowledgement of a record that was sent after the kill to that
// partition. That covers the controller noticing (the broker's session lapses, or its session
// stream breaks), the election, the new leader learning it, and the producer finding it.
// Then the broker is restarted and the benchmark waits until it is back in every ISR (and the
// preferred leaders are restored) before the next kill.
//
//   npm run bench:failover                         # 5 kills, default session timeout
//   npm run bench:failover -- --kills 10 --session-timeout-ms 3000
//
// The cluster lives in a temp dir, deleted at the end.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Admin, Producer } from '../client/index.ts';
import { EmbeddedCluster } from '../client/cli/embedded-cluster.ts';
import { silentLogger } from '../common/logger.ts';
import { DEFAULT_SESSION_TIMEOUT_MS } from '../operator/local/controller-options.ts';
import { wholeNumber } from './bench-args.ts';

const { values: args } = parseArgs({
  options: {
    kills: { type: 'string', default: '5' },
    'session-timeout-ms': { type: 'string', default: String(DEFAULT_SESSION_TIMEOUT_MS) },
    'records-per-sec': { type: 'string', default: '600' },
    partitions: { type: 'string', default: '6' },
  },
  strict: true,
});

const kills = wholeNumber('kills', args.kills, 1);
const sessionTimeoutMs = wholeNumber('session-timeout-ms', args['session-timeout-ms'], 100);
const recordsPerSec = wholeNumber('records-per-sec', args['records-per-sec'], 1);
const partitions = wholeNumber('partitions', args.partitions, 1);
const TOPIC = 'failover';
const TICK_MS = 10;
const BROKERS = 3;
const REBALANCE_INTERVAL_MS = 2_000;
/** Producer settings in force: how fast it gives up on a dead leader and looks again. */
const PRODUCER = { requestTimeoutMs: 5_000, retryBackoffMs: 50, metadataMaxAgeMs: 5_000, lingerMs: 5 } as const;

async function waitUntil(what: string, probe: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await Promise.resolve(probe()).catch(() => false)) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(50);
  }
}

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-failover-'));
let cluster: EmbeddedCluster | undefined;
try {
  cluster = await EmbeddedCluster.start({
    dataDir,
    brokers: BROKERS,
    sessionTimeoutMs,
    controllerArgs: ['--leader-rebalance-interval-ms', String(REBALANCE_INTERVAL_MS)],
  });
  const c = cluster;
  const bootstrapServers = c.bootstrapServers.split(',');
  const admin = new Admin({ bootstrapServers, requestTimeoutMs: 5_000, logger: silentLogger() });
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.createTopic({ name: TOPIC, partitions, replicationFactor: 3, config: { 'min.insync.replicas': 2 } });
      break;
    } catch (err) {
      if (attempt >= 100) throw err;
      await sleep(200);
    }
  }
  const healthy = async (): Promise<boolean> => {
    const d = await admin.describeTopic(TOPIC);
    return d.partitions.every((p) => p.isr.length === 3 && p.leader === p.replicas[0]);
  };
  await waitUntil('every partition led by its preferred replica with a full ISR', healthy, 30_000);

  const producer = new Producer({ bootstrapServers, acks: 'all', idempotence: true, deliveryTimeoutMs: 120_000, logger: silentLogger(), ...PRODUCER });
  await producer.connect();
  let sent = 0;
  let acked = 0;
  const errors: string[] = [];
  let watch: { partition: number; killedAt: number; firstAckAt: number | undefined } | undefined;
  const value = Buffer.alloc(100, 'x');
  const perTick = Math.max(1, Math.round((recordsPerSec * TICK_MS) / 1000));
  const timer = setInterval(() => {
    for (let i = 0; i < perTick; i++) {
      const partition = sent++ % partitions;
      const sentAt = performance.now();
      producer.send({ topic: TOPIC, partition, value }).then(
        () => {
          acked++;
          if (watch && partition === watch.partition && sentAt >= watch.killedAt && watch.firstAckAt === undefined) watch.firstAckAt = performance.now();
        },
        (err: unknown) => { errors.push((err as Error).message); },
      );
    }
  }, TICK_MS);

  const results: number[] = [];
  try {
    await sleep(1_000);
    for (let k = 0; k < kills; k++) {
      const partition = k % partitions;
      const leader = (await admin.describeTopic(TOPIC)).partitions.find((p) => p.partition === partition)!.leader;
      const w = { partition, killedAt: performance.now(), firstAckAt: undefined as number | undefined };
      watch = w;
      await c.killBroker(leader, 'SIGKILL');
      await waitUntil(`an ack on partition ${partition} after the kill`, () => w.firstAckAt !== undefined, 120_000);
      const ms = w.firstAckAt! - w.killedAt;
      results.push(ms);
      const back = performance.now();
      await c.startBroker(leader);
      await waitUntil(`broker ${leader} back in every ISR and preferred leaders restored`, healthy, 60_000);
      process.stdout.write(`kill ${k + 1}: broker ${leader} (leader of partition ${partition}) SIGKILLed; first ack after the kill ${ms.toFixed(0)} ms; ` +
        `restarted, and (from the restart) back in every ISR and leading again after ${((performance.now() - back) / 1000).toFixed(1)} s\n`);
    }
  } finally {
    clearInterval(timer);
    await producer.close({ timeoutMs: 10_000 }).catch(() => undefined);
    await admin.close();
  }
  const sorted = results.slice().sort((a, b) => a - b);
  const median = sorted.length % 2 === 1 ? sorted[(sorted.length - 1) / 2]! : (sorted[sorted.length / 2 - 1]! + sorted[sorted.length / 2]!) / 2;
  process.stdout.write(`kill to first ack: min ${sorted[0]!.toFixed(0)} ms, median ${median.toFixed(0)} ms, max ${sorted.at(-1)!.toFixed(0)} ms over ${results.length} kills\n`);
  process.stdout.write(`session timeout ${sessionTimeoutMs} ms; producer requestTimeoutMs ${PRODUCER.requestTimeoutMs}, retryBackoffMs ${PRODUCER.retryBackoffMs}, ` +
    `metadataMaxAgeMs ${PRODUCER.metadataMaxAgeMs}; ${recordsPerSec} records/s over ${partitions} partitions; ${sent} sent, ${acked} acked, ${errors.length} failed\n`);
  if (errors.length > 0) {
    process.stderr.write(`send errors (first 5): ${errors.slice(0, 5).join('; ')}\n`);
    process.exitCode = 1;
  }
} finally {
  await cluster?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
