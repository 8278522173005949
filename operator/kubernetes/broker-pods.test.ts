import { describe, expect, it } from 'vitest';
import { brokerIdOfPod, judgePod, podVerdict, type NodeLike, type PodLike } from './broker-pods.ts';

const node = (name: string, ready: string, zone?: string): NodeLike => ({
  metadata: { name, labels: zone ? { 'topology.kubernetes.io/zone': zone } : {} },
  status: { conditions: [{ type: 'Ready', status: ready }] },
});
const pod = (name: string, extra: Partial<{ phase: string; reason: string; nodeName: string | null; deleting: boolean; index: string; uid: string }> = {}): PodLike => ({
  metadata: {
    name,
    uid: extra.uid ?? `uid-${name}`,
    labels: extra.index !== undefined ? { 'apps.kubernetes.io/pod-index': extra.index } : {},
    ...(extra.deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}),
  },
  spec: extra.nodeName === null ? {} : { nodeName: extra.nodeName ?? 'n1' },
  status: { phase: extra.phase ?? 'Running', ...(extra.reason ? { reason: extra.reason } : {}) },
});

describe('broker pods', () => {
  it('takes the broker id from the pod-index label, else the name\'s ordinal', () => {
    expect(brokerIdOfPod(pod('sluice-broker-2'))).toBe(2);
    expect(brokerIdOfPod(pod('weird-name', { index: '5' }))).toBe(5);
    expect(brokerIdOfPod(pod('no-ordinal'))).toBeUndefined();
  });

  it('judges each way a broker Pod can be lost', () => {
    const nodes = [node('n1', 'True', 'zone-a'), node('n2', 'Unknown')];
    expect(podVerdict(0, [pod('b-0')], nodes)).toEqual({ state: 'running', rack: 'zone-a', pod: { uid: 'uid-b-0', name: 'b-0' } });
    expect(podVerdict(1, [pod('b-0')], nodes)).toMatchObject({ state: 'lost', why: 'no broker Pod with ordinal 1 exists' });
    expect(podVerdict(0, [pod('b-0', { phase: 'Failed', reason: 'Evicted' })], nodes)).toMatchObject({ state: 'lost', why: 'Pod b-0 is Failed (Evicted)' });
    expect(podVerdict(0, [pod('b-0', { nodeName: 'n2' })], nodes)).toMatchObject({ state: 'lost', why: expect.stringContaining('node n2 of Pod b-0 is not ready') });
    expect(podVerdict(0, [pod('b-0', { nodeName: 'gone' })], nodes)).toMatchObject({ state: 'lost', why: expect.stringContaining('no longer exists') });
    expect(podVerdict(0, [pod('b-0', { phase: 'Pending' })], nodes)).toMatchObject({ state: 'pending' });
  });

  it('tells a Pod being deleted gracefully (its broker may be shutting down) from a lost one', () => {
    const nodes = [node('n1', 'True'), node('n2', 'False')];
    expect(judgePod(pod('b-0', { deleting: true }), nodes)).toEqual({ state: 'terminating', why: 'Pod b-0 is being deleted', pod: { uid: 'uid-b-0', name: 'b-0' } });
    // A lost node, a failed Pod: no kubelet is running a controlled shutdown there.
    expect(judgePod(pod('b-0', { deleting: true, nodeName: 'n2' }), nodes)).toMatchObject({ state: 'lost' });
    expect(judgePod(pod('b-0', { deleting: true, phase: 'Failed' }), nodes)).toMatchObject({ state: 'lost' });
    expect(judgePod(pod('b-0', { deleting: true, nodeName: null }), nodes)).toMatchObject({ state: 'lost' });
  });

  it('lets the most alive Pod of an ordinal decide: running, then terminating, then pending', () => {
    const nodes = [node('n1', 'True')];
    const old = pod('b-0', { deleting: true, uid: 'old' });
    expect(podVerdict(0, [old, pod('b-0', { index: '0', uid: 'new' })], nodes)).toMatchObject({ state: 'running', pod: { uid: 'new' } });
    expect(podVerdict(0, [pod('b-0', { phase: 'Pending', uid: 'new' }), old], nodes)).toMatchObject({ state: 'terminating', pod: { uid: 'old' } });
  });
});
