import { describe, expect, it } from 'vitest';
import { brokerIdOfPod, podVerdict, type NodeLike, type PodLike } from './broker-pods.ts';

const node = (name: string, ready: string, zone?: string): NodeLike => ({
  metadata: { name, labels: zone ? { 'topology.kubernetes.io/zone': zone } : {} },
  status: { conditions: [{ type: 'Ready', status: ready }] },
});
const pod = (name: string, extra: Partial<{ phase: string; reason: string; nodeName: string; deleting: boolean; index: string }> = {}): PodLike => ({
  metadata: { name, labels: extra.index !== undefined ? { 'apps.kubernetes.io/pod-index': extra.index } : {}, ...(extra.deleting ? { deletionTimestamp: '2025-01-01T00:00:00Z' } : {}) },
  spec: { nodeName: extra.nodeName ?? 'n1' },
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
    expect(podVerdict(0, [pod('b-0')], nodes)).toEqual({ state: 'running', rack: 'zone-a' });
    expect(podVerdict(1, [pod('b-0')], nodes)).toMatchObject({ state: 'lost', why: 'no broker Pod with ordinal 1 exists' });
    expect(podVerdict(0, [pod('b-0', { deleting: true })], nodes)).toMatchObject({ state: 'lost', why: 'Pod b-0 is being deleted' });
    expect(podVerdict(0, [pod('b-0', { phase: 'Failed', reason: 'Evicted' })], nodes)).toMatchObject({ state: 'lost', why: 'Pod b-0 is Failed (Evicted)' });
    expect(podVerdict(0, [pod('b-0', { nodeName: 'n2' })], nodes)).toMatchObject({ state: 'lost', why: expect.stringContaining('node n2 of Pod b-0 is not ready') });
    expect(podVerdict(0, [pod('b-0', { nodeName: 'gone' })], nodes)).toMatchObject({ state: 'lost', why: expect.stringContaining('no longer exists') });
    expect(podVerdict(0, [pod('b-0', { phase: 'Pending' })], nodes)).toMatchObject({ state: 'pending' });
  });

  it('lets a running Pod of the ordinal win over a terminating one', () => {
    const nodes = [node('n1', 'True')];
    expect(podVerdict(0, [pod('b-0', { deleting: true }), pod('b-0', { index: '0' })], nodes)).toMatchObject({ state: 'running' });
  });
});
