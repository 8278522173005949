import { describe, expect, it } from 'vitest';
import { electLeader, NO_LEADER } from './election.ts';
import type { BrokerLifecycle } from './cluster-state.ts';

const LIFECYCLES: BrokerLifecycle[] = ['active', 'shutting_down', 'fenced'];

function* permutations(items: number[]): Generator<number[]> {
  if (items.length <= 1) {
    yield items;
    return;
  }
  for (let i = 0; i < items.length; i++) {
    for (const rest of permutations([...items.slice(0, i), ...items.slice(i + 1)])) yield [items[i]!, ...rest];
  }
}

function* subsets<T>(items: T[]): Generator<T[]> {
  for (let mask = 0; mask < 1 << items.length; mask++) yield items.filter((_, i) => mask & (1 << i));
}

function* assignments(ids: number[]): Generator<Map<number, BrokerLifecycle>> {
  const total = LIFECYCLES.length ** ids.length;
  for (let n = 0; n < total; n++) {
    const m = new Map<number, BrokerLifecycle>();
    let k = n;
    for (const id of ids) {
      m.set(id, LIFECYCLES[k % LIFECYCLES.length]!);
      k = Math.floor(k / LIFECYCLES.length);
    }
    yield m;
  }
}

describe('electLeader', () => {
  it('keeps every rule of DESIGN §6 over all small cases', () => {
    let cases = 0;
    for (const replicas of permutations([1, 2, 3])) {
      for (const isr of subsets(replicas)) {
        if (isr.length === 0) continue;
        for (const lifecycle of assignments(replicas)) {
          for (const excluded of [[], [replicas[0]!], [replicas[1]!]]) {
            for (const addingReplicas of [[], [replicas[1]!]]) {
              for (const uncleanAllowed of [false, true]) {
                for (const allowShuttingDown of [false, true]) {
                  cases++;
                  const out = electLeader({ replicas, isr, lifecycleOf: (id) => lifecycle.get(id), uncleanAllowed, excluded, addingReplicas, allowShuttingDown });
                  const ok = (id: number, l: BrokerLifecycle) => !excluded.includes(id) && lifecycle.get(id) === l;
                  const eligible = (id: number) => ok(id, 'active') || (allowShuttingDown && ok(id, 'shutting_down'));
                  const eligibleIsr = replicas.filter((id) => isr.includes(id) && eligible(id));
                  // A replica still being added may hold nothing: in sync it may lead, never unclean.
                  const uncleanEligible = (id: number) => eligible(id) && !addingReplicas.includes(id);
                  const ctx = JSON.stringify({ replicas, isr, lifecycle: [...lifecycle], excluded, addingReplicas, uncleanAllowed, allowShuttingDown, out });

                  if (eligibleIsr.length > 0) {
                    // A clean choice exists: take it, active before stopping, preferred order first.
                    const activeIsr = eligibleIsr.filter((id) => lifecycle.get(id) === 'active');
                    const expected = activeIsr[0] ?? eligibleIsr[0];
                    expect(out, ctx).toEqual({ leader: expected, unclean: false });
                  } else if (uncleanAllowed && replicas.some(uncleanEligible)) {
                    expect(out.unclean, ctx).toBe(true);
                    expect(isr.includes(out.leader), ctx).toBe(false);
                    expect(uncleanEligible(out.leader), ctx).toBe(true);
                    const pool = replicas.filter(uncleanEligible);
                    const activePool = pool.filter((id) => lifecycle.get(id) === 'active');
                    expect(out.leader, ctx).toBe(activePool[0] ?? pool[0]);
                  } else {
                    expect(out, ctx).toEqual({ leader: NO_LEADER, unclean: false });
                  }
                }
              }
            }
          }
        }
      }
    }
    expect(cases).toBeGreaterThan(10_000);
  });

  it('prefers the preferred replica when it is in the ISR and active', () => {
    const out = electLeader({ replicas: [3, 1, 2], isr: [1, 2, 3], lifecycleOf: () => 'active', uncleanAllowed: false });
    expect(out).toEqual({ leader: 3, unclean: false });
  });

  it('leaves the partition offline rather than electing outside the ISR when unclean election is off', () => {
    const lifecycle = new Map<number, BrokerLifecycle>([[1, 'fenced'], [2, 'active']]);
    const out = electLeader({ replicas: [1, 2], isr: [1], lifecycleOf: (id) => lifecycle.get(id), uncleanAllowed: false });
    expect(out).toEqual({ leader: NO_LEADER, unclean: false });
    const unclean = electLeader({ replicas: [1, 2], isr: [1], lifecycleOf: (id) => lifecycle.get(id), uncleanAllowed: true });
    expect(unclean).toEqual({ leader: 2, unclean: true });
  });

  it('treats brokers it does not know as dead', () => {
    const out = electLeader({ replicas: [7, 8], isr: [7, 8], lifecycleOf: () => undefined, uncleanAllowed: true });
    expect(out.leader).toBe(NO_LEADER);
  });
});
