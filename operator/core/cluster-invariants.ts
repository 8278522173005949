// The invariants of ClusterState, as one checkable list. Property tests run it after every
// transition; the state store runs it on load, so a hand-edited or damaged file that breaks a
// rule is refused instead of being acted on.
import { parseTopicConfig, validateTopicName } from '../../common/topic-config.ts';
import { NO_LEADER } from './election.ts';
import type { ClusterState } from './cluster-state.ts';
import { reassignmentCompletion, targetReplicas } from './reassignment.ts';

const LIFECYCLES = new Set(['active', 'fenced', 'shutting_down']);

/** Every broken rule, described; empty when the state is sound. */
export function clusterStateViolations(state: ClusterState): string[] {
  const out: string[] = [];
  const nonNegInt = (v: unknown) => Number.isSafeInteger(v) && (v as number) >= 0;

  if (!state.clusterId) out.push('clusterId is empty');
  if (!nonNegInt(state.metadataVersion)) out.push(`metadataVersion ${state.metadataVersion} is not a non-negative integer`);
  if (!nonNegInt(state.nextBrokerEpoch) || state.nextBrokerEpoch < 1) out.push(`nextBrokerEpoch ${state.nextBrokerEpoch} is not a positive integer`);
  if (!nonNegInt(state.nextProducerId) || state.nextProducerId < 1) out.push(`nextProducerId ${state.nextProducerId} is not a positive integer`);

  const brokers = new Map<number, (typeof state.brokers)[number]>();
  const epochs = new Set<number>();
  state.brokers.forEach((b, i) => {
    const at = `broker ${b.id}`;
    if (!nonNegInt(b.id)) out.push(`brokers[${i}] has id ${b.id}, not a non-negative integer`);
    if (brokers.has(b.id)) out.push(`${at} appears twice`);
    if (i > 0 && state.brokers[i - 1]!.id >= b.id) out.push(`brokers are not sorted by id at ${at}`);
    brokers.set(b.id, b);
    if (!LIFECYCLES.has(b.state)) out.push(`${at} has unknown state ${JSON.stringify(b.state)}`);
    if (!b.host) out.push(`${at} has no host`);
    if (!Number.isInteger(b.port) || b.port < 1 || b.port > 65_535) out.push(`${at} has port ${b.port}`);
    if (!b.incarnationId) out.push(`${at} has no incarnation id`);
    if (!nonNegInt(b.brokerEpoch) || b.brokerEpoch < 1 || b.brokerEpoch >= state.nextBrokerEpoch) {
      out.push(`${at} has epoch ${b.brokerEpoch}, outside 1..${state.nextBrokerEpoch - 1}`);
    }
    if (epochs.has(b.brokerEpoch)) out.push(`${at} shares epoch ${b.brokerEpoch} with another broker`);
    epochs.add(b.brokerEpoch);
  });

  const names = new Set<string>();
  const ids = new Set<string>();
  state.topics.forEach((t, i) => {
    const at = `topic "${t.name}"`;
    try {
      validateTopicName(t.name);
    } catch (e) {
      out.push(`${at}: ${(e as Error).message}`);
    }
    if (names.has(t.name)) out.push(`${at} appears twice`);
    if (i > 0 && state.topics[i - 1]!.name >= t.name) out.push(`topics are not sorted by name at ${at}`);
    names.add(t.name);
    if (!t.topicId) out.push(`${at} has no topic id`);
    if (ids.has(t.topicId)) out.push(`${at} shares topic id ${t.topicId} with another topic`);
    ids.add(t.topicId);
    try {
      parseTopicConfig(t.config as Record<string, unknown>);
    } catch (e) {
      out.push(`${at}: ${(e as Error).message}`);
    }
    if (t.partitions.length === 0) out.push(`${at} has no partitions`);
    const rf = t.partitions[0] ? targetReplicas(t.partitions[0]).length : 0;
    const unclean = t.config['unclean.leader.election.enable'] === true;

    t.partitions.forEach((p, index) => {
      const pat = `${t.name}-${p.partition}`;
      if (p.partition !== index) out.push(`${at} lists partition ${p.partition} at position ${index}`);
      if (p.replicas.length === 0) out.push(`${pat} has no replicas`);
      if (new Set(p.replicas).size !== p.replicas.length) out.push(`${pat} has a broker twice in its replicas [${p.replicas}]`);
      // Reassignment: replicas = target ++ removing, adding ⊆ target, and a target per topic RF.
      const removingTail = p.replicas.slice(p.replicas.length - p.removingReplicas.length);
      if (p.removingReplicas.length >= p.replicas.length || p.removingReplicas.some((r, k) => r !== removingTail[k])) {
        out.push(`${pat} has removing replicas [${p.removingReplicas}] that are not a proper tail of its replicas [${p.replicas}]`);
      }
      const target = targetReplicas(p);
      if (target.length !== rf) out.push(`${pat} has ${target.length} target replicas, partition 0 has ${rf}`);
      if (new Set(p.addingReplicas).size !== p.addingReplicas.length || p.addingReplicas.some((r) => !target.includes(r))) {
        out.push(`${pat} has adding replicas [${p.addingReplicas}] outside its target replicas [${target}]`);
      }
      if (!Number.isSafeInteger(p.lastUncleanLeaderEpoch) || p.lastUncleanLeaderEpoch < -1 || p.lastUncleanLeaderEpoch > p.leaderEpoch) {
        out.push(`${pat} has last unclean leader epoch ${p.lastUncleanLeaderEpoch}, outside -1..${p.leaderEpoch}`);
      }
      for (const r of p.replicas) if (!brokers.has(r)) out.push(`${pat} has replica ${r}, an unknown broker`);
      if (p.isr.length === 0) out.push(`${pat} has an empty ISR`);
      if (new Set(p.isr).size !== p.isr.length) out.push(`${pat} has a broker twice in its ISR [${p.isr}]`);
      const inOrder = p.replicas.filter((r) => p.isr.includes(r));
      if (p.isr.some((r) => !p.replicas.includes(r))) out.push(`${pat} has ISR [${p.isr}] outside its replicas [${p.replicas}]`);
      else if (inOrder.some((r, k) => r !== p.isr[k])) out.push(`${pat} has ISR [${p.isr}] not in replica order`);
      if (!nonNegInt(p.leaderEpoch) || !nonNegInt(p.partitionEpoch)) out.push(`${pat} has epochs ${p.leaderEpoch}/${p.partitionEpoch}`);
      // Every leader change bumps both epochs, both start at 0.
      if (p.leaderEpoch > p.partitionEpoch) out.push(`${pat} has leader epoch ${p.leaderEpoch} above partition epoch ${p.partitionEpoch}`);

      if (p.leader !== NO_LEADER) {
        if (!p.isr.includes(p.leader)) out.push(`${pat} is led by ${p.leader}, outside its ISR [${p.isr}]`);
        const state = brokers.get(p.leader)?.state;
        if (state === undefined || state === 'fenced') out.push(`${pat} is led by ${p.leader}, which is ${state ?? 'unknown'}`);
      } else {
        // Offline is only allowed when no election could succeed.
        const liveIsr = p.isr.filter((r) => isLive(brokers.get(r)?.state));
        if (liveIsr.length > 0) out.push(`${pat} is offline although ISR member ${liveIsr[0]} is live`);
        if (unclean) {
          // Replicas still being added are no candidates: they may hold nothing.
          const liveReplica = p.replicas.find((r) => isLive(brokers.get(r)?.state) && !p.addingReplicas.includes(r));
          if (liveReplica !== undefined) out.push(`${pat} is offline although unclean election is on and replica ${liveReplica} is live`);
        }
      }
      // Every transition that could let a reassignment finish tries to, so none is left waiting
      // for nothing (it would hold extra replicas, or an old leader, for no reason).
      if (reassignmentCompletion(p, (id) => brokers.get(id)?.state)) out.push(`${pat} has a reassignment that could complete but has not`);
      const fencedInIsr = p.isr.filter((r) => brokers.get(r)?.state === 'fenced');
      if (fencedInIsr.length > 0 && (p.isr.length !== 1 || p.leader !== NO_LEADER)) {
        out.push(`${pat} keeps fenced broker ${fencedInIsr[0]} in ISR [${p.isr}] though it is not the offline partition's last member`);
      }
    });
  });
  return out;
}

function isLive(state: string | undefined): boolean {
  return state === 'active' || state === 'shutting_down';
}
