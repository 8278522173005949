// Preferred-leader rebalance in the running controller: leadership returns to the preferred
// replica once it is back in the ISR, at once (the AlterPartition that re-admits it) or on the
// periodic round, and never when the rebalance is disabled.
import { afterEach, describe, expect, it } from 'vitest';
import type { BrokerSessionDouble } from './broker-session-double.ts';
import { beat, broker, brokerState, createTopic, HEARTBEAT_MS, proposeIsr, runCleanups, SESSION_TIMEOUT_MS, start, waitFor, type Harness } from './controller-harness.ts';
import { findTopic } from '../core/cluster-state.ts';

afterEach(runCleanups);

const partition0 = (h: Harness) => findTopic(h.controller.committed.current, 'orders')!.partitions[0]!;

/**
 * Two brokers, orders-0 on both; the preferred replica's session lapses (leadership moves to the
 * other), then it registers again as the same incarnation: active, leading nothing, out of the
 * ISR. Answers the doubles by role.
 */
async function preferredReturns(h: Harness): Promise<{ preferred: BrokerSessionDouble; other: BrokerSessionDouble }> {
  const b1 = broker(h);
  const b2 = broker(h);
  await b1.register({ brokerId: 1, incarnationId: 'inc-1' });
  await b2.register({ brokerId: 2, incarnationId: 'inc-2' });
  await createTopic(h, { name: 'orders', partitions: 1, replication_factor: 2 });
  const [preferredId] = partition0(h).replicas;
  const [preferred, other] = preferredId === 1 ? [b1, b2] : [b2, b1];
  for (let t = 0; t < SESSION_TIMEOUT_MS; t += HEARTBEAT_MS) {
    await beat(h, other);
    h.clock.advance(HEARTBEAT_MS);
  }
  await waitFor(async () => (await brokerState(h, preferred.brokerId)) === 'BROKER_STATE_FENCED');
  expect(partition0(h)).toMatchObject({ leader: other.brokerId, isr: [other.brokerId] });
  const back = broker(h);
  await back.register({ brokerId: preferred.brokerId, incarnationId: `inc-${preferred.brokerId}` });
  expect(partition0(h)).toMatchObject({ leader: other.brokerId, isr: [other.brokerId] });
  return { preferred: back, other };
}

async function electionsCounted(h: Harness, reason: string): Promise<number> {
  const text = await h.controller.metrics.registry.getSingleMetricAsString('sluice_leader_elections_total');
  const line = text.split('\n').find((l) => l.startsWith(`sluice_leader_elections_total{reason="${reason}",unclean="false"}`));
  return line ? Number(line.split(' ').pop()) : 0;
}

describe('preferred leader rebalance', () => {
  it('moves leadership back as soon as the leader re-admits the caught-up preferred replica, counted as reason "preferred"', async () => {
    const h = await start(undefined, { leaderRebalanceIntervalMs: 600_000 });
    const { preferred, other } = await preferredReturns(h);
    const before = partition0(h);
    await proposeIsr(h, other, 'orders', 0, [other.brokerId, preferred.brokerId]);
    await waitFor(() => partition0(h).leader === preferred.brokerId);
    expect(partition0(h)).toMatchObject({ leaderEpoch: before.leaderEpoch + 1, isr: [preferred.brokerId, other.brokerId] });
    // Brokers hear of it like of any other election.
    const pushed = await preferred.nextMetadata((m) => m.topics.find((t) => t.name === 'orders')?.partitions[0]?.leader === preferred.brokerId);
    expect(pushed.version).toBe(h.controller.committed.current.metadataVersion);
    expect(await electionsCounted(h, 'preferred')).toBe(1);
  });

  it('does nothing when disabled (interval 0); a restarted controller with it enabled moves leadership on its first round', async () => {
    const h = await start(undefined, { leaderRebalanceIntervalMs: 0 });
    const { preferred, other } = await preferredReturns(h);
    await proposeIsr(h, other, 'orders', 0, [other.brokerId, preferred.brokerId]);
    for (let i = 0; i < 3; i++) {
      await beat(h, other);
      await beat(h, preferred);
      h.clock.advance(HEARTBEAT_MS);
      await h.controller.committed.idle();
    }
    expect(partition0(h).leader).toBe(other.brokerId);
    expect(await electionsCounted(h, 'preferred')).toBe(0);
    await h.controller.stop();

    const h2 = await start(h.dir, { leaderRebalanceIntervalMs: 1_000 });
    expect(partition0(h2).leader).toBe(other.brokerId);
    h2.clock.advance(999);
    await h2.controller.committed.idle();
    expect(partition0(h2).leader).toBe(other.brokerId);
    h2.clock.advance(1);
    await waitFor(() => partition0(h2).leader === preferred.brokerId);
    expect(await electionsCounted(h2, 'preferred')).toBe(1);
  });

  it('leaves a preferred replica that is out of the ISR alone, round after round', async () => {
    const h = await start(undefined, { leaderRebalanceIntervalMs: 1_000 });
    const { other } = await preferredReturns(h);
    for (let i = 0; i < 3; i++) {
      await beat(h, other);
      h.clock.advance(1_000);
      await h.controller.committed.idle();
    }
    expect(partition0(h).leader).toBe(other.brokerId);
    expect(await electionsCounted(h, 'preferred')).toBe(0);
  });
});
