// Metadata lag: brokers report the version they applied in every heartbeat; one that stays
// behind a snapshot for more than MAX_LAGGING_HEARTBEATS heartbeats gets the current one again.
import { afterEach, describe, expect, it } from 'vitest';
import { MAX_LAGGING_HEARTBEATS, type MetadataRepushed } from './broker-sessions.ts';
import { beat, broker, createTopic, runCleanups, start, topicIn, type Harness } from './controller-harness.ts';

afterEach(runCleanups);

function repushes(h: Harness): MetadataRepushed[] {
  const seen: MetadataRepushed[] = [];
  h.controller.sessions.events.on('repushed', (r: MetadataRepushed) => seen.push(r));
  return seen;
}

describe('metadata lag', () => {
  it('sends the current snapshot again to a broker that reports an older version for more than two heartbeats', async () => {
    const h = await start();
    const seen = repushes(h);
    const b = broker(h);
    const { metadata: first } = await b.register({ brokerId: 1, incarnationId: 'inc-1' });
    await createTopic(h, { name: 'orders', partitions: 1 });
    const pushed = await b.nextMetadata((m) => topicIn(m, 'orders') !== undefined);
    // The broker received the push but (say) failed to apply it: it keeps reporting the first.
    b.metadataVersion = first.version;

    for (let i = 0; i < MAX_LAGGING_HEARTBEATS; i++) await beat(h, b);
    expect(seen).toEqual([]);
    await beat(h, b);
    expect(seen).toEqual([{ brokerId: 1, appliedVersion: first.version, version: pushed.version }]);
    const again = await b.nextMetadata();
    expect(again.version).toBe(pushed.version);
    expect(topicIn(again, 'orders')).toBeDefined();
    expect(h.controller.sessions.describe()).toEqual([expect.objectContaining({ brokerId: 1, appliedMetadataVersion: first.version })]);
    const metrics = await h.controller.metrics.registry.getSingleMetricAsString('sluice_controller_metadata_repushes_total');
    expect(metrics).toContain('sluice_controller_metadata_repushes_total{broker="1"} 1');

    // Applied now: no further repush however long it heartbeats.
    for (let i = 0; i < 2 * MAX_LAGGING_HEARTBEATS + 2; i++) await beat(h, b);
    expect(seen).toHaveLength(1);
  });

  it('never repushes to a broker that applies what it is sent', async () => {
    const h = await start();
    const seen = repushes(h);
    const b = broker(h);
    await b.register({ brokerId: 1, incarnationId: 'inc-1' });
    for (let i = 0; i < 3; i++) {
      await createTopic(h, { name: `t${i}`, partitions: 1 });
      await b.nextMetadata((m) => topicIn(m, `t${i}`) !== undefined);
      for (let k = 0; k < MAX_LAGGING_HEARTBEATS + 1; k++) await beat(h, b);
    }
    expect(seen).toEqual([]);
    expect(h.controller.sessions.describe()[0]!.appliedMetadataVersion).toBe(h.controller.committed.current.metadataVersion);
  });

  it('counts from the oldest unapplied snapshot, so a stream of newer pushes does not hide a stuck broker', async () => {
    const h = await start();
    const seen = repushes(h);
    const b = broker(h);
    const { metadata: first } = await b.register({ brokerId: 1, incarnationId: 'inc-1' });
    for (let i = 0; i <= MAX_LAGGING_HEARTBEATS; i++) {
      await createTopic(h, { name: `t${i}`, partitions: 1 });
      await b.nextMetadata((m) => topicIn(m, `t${i}`) !== undefined);
      b.metadataVersion = first.version;
      await beat(h, b);
    }
    expect(seen).toEqual([{ brokerId: 1, appliedVersion: first.version, version: h.controller.committed.current.metadataVersion }]);
  });

  it('tolerates a broker that applies each snapshot within the limit, however many come', async () => {
    const h = await start();
    const seen = repushes(h);
    const b = broker(h);
    const { metadata: first } = await b.register({ brokerId: 1, incarnationId: 'inc-1' });
    let applied = first.version;
    for (let i = 0; i < 4; i++) {
      await createTopic(h, { name: `t${i}`, partitions: 1 });
      const m = await b.nextMetadata((x) => topicIn(x, `t${i}`) !== undefined);
      b.metadataVersion = applied;
      for (let k = 0; k < MAX_LAGGING_HEARTBEATS; k++) await beat(h, b);
      applied = m.version;
      b.metadataVersion = applied;
    }
    await beat(h, b);
    expect(seen).toEqual([]);
  });
});
