// The README's failover walkthrough as a test: three brokers, an RF=3 topic with
// min.insync.replicas=2, an idempotent acks=all producer sending the whole time. The leader of
// partition 0 is SIGKILLed; the application sees no error, the controller elects another leader
// and drops the dead broker from the ISR; the broker is started again, rejoins the ISR and —
// through the controller's preferred-leader rebalance — leads partition 0 again. Finally every
// acknowledged record is read back exactly once, at the offset its ack named.
import { afterEach, expect, it } from 'vitest';
import { Admin, Consumer, Producer, type RecordMetadata } from '../client/index.ts';
import type { PartitionDescription } from '../client/admin.ts';
import { silentLogger } from '../common/logger.ts';
import { useTestCluster, waitFor } from './support/cluster.ts';

const TOPIC = 'failover-walkthrough';
const PARTITIONS = 6;
const SESSION_TIMEOUT_MS = 3_000;
const REBALANCE_INTERVAL_MS = 2_000;
const TEST_TIMEOUT_MS = 60_000;
/** Records per tick, spread over every partition by key. */
const PER_TICK = 6;
const TICK_MS = 20;

const getCluster = useTestCluster({
  brokers: 3,
  sessionTimeoutMs: SESSION_TIMEOUT_MS,
  // A short fetch wait lets the restarted broker catch up (and rejoin the ISR) promptly.
  brokerArgs: ['--replica-fetch-wait-max-ms', '200'],
  controllerArgs: ['--leader-rebalance-interval-ms', String(REBALANCE_INTERVAL_MS)],
});

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close().catch(() => undefined);
});

interface Ack {
  id: string;
  md: RecordMetadata;
  /** Whether the send was started after the kill. */
  afterKill: boolean;
}

it('keeps acks=all sends succeeding through a leader kill, then restores the ISR and the preferred leader', async () => {
  const cluster = getCluster();
  const admin = new Admin({ bootstrapServers: cluster.bootstrapServers, requestTimeoutMs: 5_000, logger: silentLogger() });
  closers.push(() => admin.close());

  // Brokers print READY before the controller may count all three live: RF=3 needs them all.
  await waitFor('the topic to be created with RF 3', async () => {
    await admin.createTopic({ name: TOPIC, partitions: PARTITIONS, replicationFactor: 3, config: { 'min.insync.replicas': 2 } });
    return true;
  }, 15_000, 200);
  const p0 = async (): Promise<PartitionDescription> => {
    const d = await admin.describeTopic(TOPIC);
    const p = d.partitions.find((x) => x.partition === 0);
    if (!p) throw new Error(`${TOPIC} has no partition 0`);
    return p;
  };
  const initial = await waitFor('partition 0 led by its preferred replica with a full ISR', async () => {
    const p = await p0();
    return p.leader === p.replicas[0] && p.isr.length === 3 ? p : undefined;
  });
  const preferred = initial.replicas[0]!;

  const producer = new Producer<string, string>({
    bootstrapServers: cluster.bootstrapServers,
    acks: 'all',
    idempotence: true,
    lingerMs: 5,
    keySerializer: 'string',
    valueSerializer: 'string',
    // A request to the dead leader is abandoned and retried elsewhere after 5 s instead of 30 s.
    requestTimeoutMs: 5_000,
    retryBackoffMs: 50,
    metadataMaxAgeMs: 5_000,
    deliveryTimeoutMs: 45_000,
    logger: silentLogger(),
  });
  closers.push(() => producer.close({ timeoutMs: 5_000 }));
  await producer.connect();

  const acks: Ack[] = [];
  const errors: string[] = [];
  const pending = new Set<Promise<unknown>>();
  let seq = 0;
  let killed = false;
  const sendOne = (): void => {
    const n = seq++;
    const id = `r${String(n).padStart(6, '0')}`;
    const afterKill = killed;
    const p = producer.send({ topic: TOPIC, key: `k${n % 60}`, value: id }).then(
      (md) => { acks.push({ id, md, afterKill }); },
      (err: unknown) => { errors.push(`${id}: ${(err as Error).message}`); },
    );
    pending.add(p);
    void p.finally(() => pending.delete(p));
  };
  const timer = setInterval(() => {
    // Bounded: a stall must show as missing acks, not as unbounded memory.
    for (let i = 0; i < PER_TICK && pending.size < 2_000; i++) sendOne();
  }, TICK_MS);
  closers.push(async () => clearInterval(timer));
  const acksOn0 = (afterKill: boolean) => acks.filter((a) => a.md.partition === 0 && a.afterKill === afterKill).length;

  await waitFor('acks on partition 0 before the kill', () => (acksOn0(false) >= 20 ? true : undefined));

  // The leader of partition 0 dies without a controlled shutdown.
  const killedAt = Date.now();
  await cluster.cluster.killBroker(preferred, 'SIGKILL');
  killed = true;

  const failedOver = await waitFor('a new leader of partition 0 and an ISR without the killed broker', async () => {
    const p = await p0();
    return p.leader >= 0 && p.leader !== preferred && !p.isr.includes(preferred) ? p : undefined;
  }, SESSION_TIMEOUT_MS + 10_000);
  expect(failedOver.isr.length).toBeGreaterThanOrEqual(2);
  // Sends started after the kill reach partition 0's new leader: the client re-routed them.
  await waitFor('acks on partition 0 for sends after the kill', () => (acksOn0(true) >= 20 ? true : undefined), 15_000);
  const failoverMs = Date.now() - killedAt;

  await cluster.cluster.startBroker(preferred);
  await waitFor('the restarted broker back in the ISR of partition 0', async () => ((await p0()).isr.includes(preferred) ? true : undefined), 20_000);
  const restored = await waitFor('leadership of partition 0 back on its preferred replica', async () => {
    const p = await p0();
    return p.leader === preferred ? p : undefined;
  }, REBALANCE_INTERVAL_MS + 10_000);
  expect(restored.isr.slice().sort()).toEqual([0, 1, 2]);
  expect(restored.leaderEpoch).toBeGreaterThan(failedOver.leaderEpoch);

  // Writes keep flowing to the preferred leader again before the sending stops.
  const before = acksOn0(true);
  await waitFor('acks on partition 0 after leadership returned', () => (acksOn0(true) >= before + 20 ? true : undefined), 15_000);
  clearInterval(timer);
  await Promise.all(pending);
  expect(errors, 'send errors that reached the application').toEqual([]);
  expect(acks.length).toBe(seq);

  // Read everything back, up to each partition's high watermark.
  const consumer = new Consumer<string, string>({ bootstrapServers: cluster.bootstrapServers, keyDeserializer: 'string', valueDeserializer: 'string', logger: silentLogger() });
  closers.push(() => consumer.close());
  const tps = Array.from({ length: PARTITIONS }, (_, partition) => ({ topic: TOPIC, partition }));
  const ends = await admin.listOffsets(tps.map((tp) => ({ ...tp, spec: 'latest' as const })));
  consumer.assign(tps);
  await consumer.seekToBeginning(tps);
  const read = new Map<string, string>(); // "partition/offset" -> value
  const seen = new Map<string, number>(); // value -> times read
  const readPer = new Map<number, number>();
  const remaining = (): number => ends.reduce((n, e) => n + Math.max(0, e.offset - (readPer.get(e.partition) ?? 0)), 0);
  const readDeadline = Date.now() + 20_000;
  while (remaining() > 0 && Date.now() < readDeadline) {
    for (const r of await consumer.poll(500)) {
      if (r.offset >= (ends.find((e) => e.partition === r.partition)?.offset ?? 0)) continue;
      const k = `${r.partition}/${r.offset}`;
      if (read.has(k)) continue;
      read.set(k, r.value ?? '');
      readPer.set(r.partition, (readPer.get(r.partition) ?? 0) + 1);
      seen.set(r.value ?? '', (seen.get(r.value ?? '') ?? 0) + 1);
    }
  }
  expect(remaining(), 'records below the high watermarks not read back in 20 s').toBe(0);

  const misplaced = acks.filter((a) => read.get(`${a.md.partition}/${a.md.offset}`) !== a.id).map((a) => `${a.id} acked at ${a.md.partition}/${a.md.offset}, read ${read.get(`${a.md.partition}/${a.md.offset}`)}`);
  expect(misplaced.slice(0, 10), `${misplaced.length} acked records not at their acked offset`).toEqual([]);
  const duplicated = [...seen].filter(([, n]) => n !== 1).map(([id, n]) => `${id} x${n}`);
  expect(duplicated.slice(0, 10), 'records read more than once').toEqual([]);
  // Nothing in the log that was not acknowledged: the acks account for every record read.
  expect(read.size).toBe(acks.length);
  console.log(`failover walkthrough: ${acks.length} records acked (${acks.filter((a) => a.afterKill).length} after the kill), ` +
    `partition 0 moved ${preferred} -> ${failedOver.leader} -> ${restored.leader}; kill to first acks after it on partition 0 within ${failoverMs} ms`);
}, TEST_TIMEOUT_MS);
