// Single-in-flight produce latency: one record sent, its acks=all acknowledgement awaited, then
// the next. No batching or queueing hides anything here — each number is one full round trip
// through the leader and replication to the ISR (what a request/response service that writes
// one event per request sees), unlike bench:produce, whose latency at full speed is mostly
// time spent queued in the producer.
//
//   npm run bench:latency                          # 5,000 records, 3 brokers, RF 3
//   npm run bench:latency -- --num-records 20000 --record-size 1024
//
// Prints kafka-producer-perf-test's total line. The cluster lives in a temp dir, deleted at the end.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { Admin, Producer } from '../client/index.ts';
import { EmbeddedCluster } from '../client/cli/embedded-cluster.ts';
import { formatProducerTotal, percentile } from '../client/cli/perf-stats.ts';
import { silentLogger } from '../common/logger.ts';
import { wholeNumber } from './bench-args.ts';

const { values: args } = parseArgs({
  options: {
    'num-records': { type: 'string', default: '5000' },
    'record-size': { type: 'string', default: '100' },
    brokers: { type: 'string', default: '3' },
    'replication-factor': { type: 'string', default: '3' },
    warmup: { type: 'string', default: '200' },
  },
  strict: true,
});

const numRecords = wholeNumber('num-records', args['num-records'], 1);
const recordSize = wholeNumber('record-size', args['record-size'], 0);
const brokers = wholeNumber('brokers', args.brokers, 1);
const replicationFactor = wholeNumber('replication-factor', args['replication-factor'], 1);
const warmup = wholeNumber('warmup', args.warmup, 0);
const TOPIC = 'latency';

const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-latency-'));
let cluster: EmbeddedCluster | undefined;
try {
  cluster = await EmbeddedCluster.start({ dataDir, brokers });
  const bootstrapServers = cluster.bootstrapServers.split(',');
  const admin = new Admin({ bootstrapServers, logger: silentLogger() });
  // Brokers are READY before the controller may count them all live: retry for a while.
  for (let attempt = 0; ; attempt++) {
    try {
      await admin.createTopic({
        name: TOPIC, partitions: 1, replicationFactor,
        config: { 'min.insync.replicas': Math.min(2, replicationFactor) },
      });
      break;
    } catch (err) {
      if (attempt >= 100) throw err;
      await sleep(200);
    }
  }
  await admin.close();

  const producer = new Producer({ bootstrapServers, acks: 'all', idempotence: true, lingerMs: 0, logger: silentLogger() });
  await producer.connect();
  const value = Buffer.alloc(recordSize, 'x');
  // Warm-up sends (connections, leader lookup, JIT) are not measured.
  for (let i = 0; i < warmup; i++) await producer.send({ topic: TOPIC, value });

  const latencies = new Float64Array(numRecords);
  const started = performance.now();
  for (let i = 0; i < numRecords; i++) {
    const t0 = performance.now();
    await producer.send({ topic: TOPIC, value });
    latencies[i] = performance.now() - t0;
  }
  const elapsedMs = performance.now() - started;
  await producer.close();

  const sorted = latencies.slice().sort();
  const sum = latencies.reduce((a, b) => a + b, 0);
  const bytes = numRecords * recordSize;
  process.stdout.write(`${formatProducerTotal({
    count: numRecords,
    elapsedMs,
    bytes,
    recordsPerSec: numRecords / (elapsedMs / 1000),
    mbPerSec: bytes / 1024 / 1024 / (elapsedMs / 1000),
    avgLatencyMs: sum / numRecords,
    maxLatencyMs: sorted[sorted.length - 1] ?? 0,
    p50Ms: percentile(sorted, 0.5),
    p95Ms: percentile(sorted, 0.95),
    p99Ms: percentile(sorted, 0.99),
    p999Ms: percentile(sorted, 0.999),
  })}\n`);
  process.stdout.write(`(${brokers} brokers, 1 partition, RF ${replicationFactor}, acks=all, lingerMs 0, ${recordSize}-byte records, one in flight; ` +
    `percentiles rounded to whole ms as Kafka prints them: p50 ${percentile(sorted, 0.5).toFixed(2)} ms, p99 ${percentile(sorted, 0.99).toFixed(2)} ms)\n`);
} finally {
  await cluster?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}
