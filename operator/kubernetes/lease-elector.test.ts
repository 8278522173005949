// LeaseElector against the Kubernetes API double with the real client-node: one leader at a time,
// takeover within the lease duration, release on stop, a holder that cannot renew steps down
// before anyone else takes over, and annotation writes only while holding the Lease.
import { CoordinationV1Api } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.ts';
import { kubeConfigFor, waitFor } from '../../test/support/kube-api/client-node-helpers.ts';
import { KubeApiDouble } from '../../test/support/kube-api/kube-api-double.ts';
import { LeadershipLostError, LeaseElector } from './lease-elector.ts';

const NS = 'sluice';
let kube: KubeApiDouble;
let api: CoordinationV1Api;
const electors: LeaseElector[] = [];

beforeAll(async () => {
  kube = await KubeApiDouble.start();
  api = kubeConfigFor(kube).makeApiClient(CoordinationV1Api);
});
afterAll(async () => {
  await kube.stop();
});
afterEach(async () => {
  await Promise.all(electors.splice(0).map((e) => e.stop()));
});

let seq = 0;
function elector(identity: string, name: string, overrides: Partial<ConstructorParameters<typeof LeaseElector>[0]> = {}): LeaseElector {
  const e = new LeaseElector({ api, namespace: NS, name, identity, leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 200, logger: silentLogger(), ...overrides });
  electors.push(e);
  return e;
}

/** A CoordinationV1Api whose calls fail while `down` (the process cannot reach the API server). */
function severable(): { api: CoordinationV1Api; down: boolean } {
  const state = { down: false, api: undefined as unknown as CoordinationV1Api };
  state.api = new Proxy(api, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => (state.down ? Promise.reject(new Error('connect ECONNREFUSED (severed by the test)')) : (v as (...a: unknown[]) => unknown).apply(target, args));
    },
  });
  return state;
}

const leaseOf = (name: string) => api.readNamespacedLease({ name, namespace: NS });

describe('LeaseElector', () => {
  it('creates and holds the Lease, renewing it, and writes annotations only while holding it', async () => {
    const name = `lease-${++seq}`;
    const a = elector('a', name);
    a.start();
    await waitFor('a to lead', () => a.isLeader);
    const first = await leaseOf(name);
    expect(first.spec).toMatchObject({ holderIdentity: 'a', leaseDurationSeconds: 2, leaseTransitions: 0 });
    await new Promise((r) => setTimeout(r, 500));
    const renewed = await leaseOf(name);
    expect(String(renewed.spec?.renewTime)).not.toBe(String(first.spec?.renewTime));

    await a.writeAnnotations({ 'sluice.dev/cluster-state': '{"x":1}' });
    expect((await leaseOf(name)).metadata?.annotations).toEqual({ 'sluice.dev/cluster-state': '{"x":1}' });
    // Renewals keep the annotation.
    await new Promise((r) => setTimeout(r, 500));
    expect((await leaseOf(name)).metadata?.annotations).toEqual({ 'sluice.dev/cluster-state': '{"x":1}' });

    await a.stop();
    expect((await leaseOf(name)).spec?.holderIdentity).toBe('');
    await expect(a.writeAnnotations({ k: 'v' })).rejects.toBeInstanceOf(LeadershipLostError);
  });

  it('lets only one of several candidates lead, and a standby takes over at once when the leader releases', async () => {
    const name = `lease-${++seq}`;
    const cs = ['a', 'b', 'c'].map((id) => elector(id, name));
    for (const c of cs) c.start();
    await waitFor('a leader', () => cs.some((c) => c.isLeader));
    // Several rounds of retries: still exactly one.
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setTimeout(r, 200));
      expect(cs.filter((c) => c.isLeader)).toHaveLength(1);
    }
    const leader = cs.find((c) => c.isLeader)!;
    expect((await leaseOf(name)).spec?.holderIdentity).toBe(leader.identity);
    const stoppedAt = Date.now();
    await leader.stop();
    await waitFor('a new leader', () => cs.some((c) => c !== leader && c.isLeader), 3000);
    // Released, not expired: well within the 2 s lease duration.
    expect(Date.now() - stoppedAt).toBeLessThan(1500);
    const lease = await leaseOf(name);
    expect(lease.spec?.leaseTransitions).toBe(1);
    expect(cs.filter((c) => c.isLeader)).toHaveLength(1);
  });

  it('steps a holder that cannot renew down before a standby takes over, and refuses its later writes', async () => {
    const name = `lease-${++seq}`;
    const link = severable();
    const a = elector('a', name, { api: link.api });
    a.start();
    await waitFor('a to lead', () => a.isLeader);
    await a.writeAnnotations({ 'sluice.dev/cluster-state': 'from-a' });
    const b = elector('b', name);
    b.start();
    let aStoppedAt = 0;
    let bLeadAt = 0;
    a.on('stopped', () => (aStoppedAt = Date.now()));
    b.on('leading', () => (bLeadAt = Date.now()));
    await new Promise((r) => setTimeout(r, 600));
    expect(b.isLeader).toBe(false);

    link.down = true;
    await waitFor('b to take over', () => b.isLeader, 5000);
    expect(aStoppedAt).toBeGreaterThan(0);
    expect(aStoppedAt).toBeLessThan(bLeadAt);
    expect(a.isLeader).toBe(false);
    // b keeps what a persisted on the Lease.
    expect(b.annotations()['sluice.dev/cluster-state']).toBe('from-a');

    link.down = false;
    await expect(a.writeAnnotations({ 'sluice.dev/cluster-state': 'stale' })).rejects.toBeInstanceOf(LeadershipLostError);
    await new Promise((r) => setTimeout(r, 600));
    expect(a.isLeader).toBe(false);
    expect((await leaseOf(name)).metadata?.annotations?.['sluice.dev/cluster-state']).toBe('from-a');
  });

  it('recreates a Lease deleted under it, with its annotations', async () => {
    const name = `lease-${++seq}`;
    const a = elector('a', name);
    a.start();
    await waitFor('a to lead', () => a.isLeader);
    await a.writeAnnotations({ 'sluice.dev/cluster-state': 'kept' });
    await api.deleteNamespacedLease({ name, namespace: NS });
    await new Promise((r) => setTimeout(r, 600));
    const lease = await leaseOf(name);
    expect(lease.spec?.holderIdentity).toBe('a');
    expect(lease.metadata?.annotations?.['sluice.dev/cluster-state']).toBe('kept');
    expect(a.isLeader).toBe(true);
  });

  it('leaves a deleted Lease to its holder to recreate with the annotations, even when a standby polls faster', async () => {
    const name = `lease-${++seq}`;
    const a = elector('a', name, { retryPeriodMs: 400 });
    a.start();
    await waitFor('a to lead', () => a.isLeader);
    await a.writeAnnotations({ 'sluice.dev/cluster-state': 'record' });
    const b = elector('b', name, { retryPeriodMs: 20 });
    b.start();
    await new Promise((r) => setTimeout(r, 100));
    await api.deleteNamespacedLease({ name, namespace: NS });
    await new Promise((r) => setTimeout(r, 1000));
    const lease = await leaseOf(name);
    expect(lease.spec?.holderIdentity).toBe('a');
    expect(lease.metadata?.annotations?.['sluice.dev/cluster-state']).toBe('record');
    expect(b.isLeader).toBe(false);
  });

  it('creates a Lease that stayed gone for a lease duration: its holder is dead', async () => {
    const name = `lease-${++seq}`;
    const link = severable();
    const a = elector('a', name, { api: link.api });
    a.start();
    await waitFor('a to lead', () => a.isLeader);
    const b = elector('b', name, { retryPeriodMs: 20 });
    b.start();
    await new Promise((r) => setTimeout(r, 100));
    link.down = true;
    await api.deleteNamespacedLease({ name, namespace: NS });
    const deletedAt = Date.now();
    await waitFor('b to lead', () => b.isLeader, 5000);
    expect(Date.now() - deletedAt).toBeGreaterThanOrEqual(2000 - 50);
    expect((await leaseOf(name)).spec?.holderIdentity).toBe('b');
  });
});
