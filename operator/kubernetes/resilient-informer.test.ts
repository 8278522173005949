// ResilientInformer against the Kubernetes API double with the real client-node ListWatch: it
// comes back from a failed list, a dropped or stalled watch, and an expired resourceVersion,
// and never shows an empty cache while it relists.
import { CoreV1Api, type V1Pod } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.ts';
import { kubeConfigFor, waitFor } from '../../test/support/kube-api/client-node-helpers.ts';
import { KubeApiDouble } from '../../test/support/kube-api/kube-api-double.ts';
import { ResilientInformer } from './resilient-informer.ts';

let kube: KubeApiDouble;
const running: ResilientInformer<V1Pod>[] = [];
let seq = 0;

beforeAll(async () => {
  kube = await KubeApiDouble.start();
});
afterAll(async () => {
  await kube.stop();
});
afterEach(async () => {
  kube.clearFaults();
  kube.resumeWatches();
  await Promise.all(running.splice(0).map((i) => i.stop()));
});

function podInformer(namespace: string, stallTimeoutMs = 60_000) {
  const core = kubeConfigFor(kube).makeApiClient(CoreV1Api);
  const changes: string[] = [];
  const informer = new ResilientInformer<V1Pod>({
    kubeConfig: kubeConfigFor(kube),
    path: `/api/v1/namespaces/${namespace}/pods`,
    list: () => core.listNamespacedPod({ namespace }),
    name: 'pods',
    onChange: (p) => changes.push(p.metadata?.name ?? '?'),
    logger: silentLogger(),
    stallTimeoutMs,
    minRestartDelayMs: 20,
    maxRestartDelayMs: 200,
  });
  running.push(informer);
  return { informer, changes };
}

const addPod = (namespace: string, name: string) =>
  kube.create('pods', { metadata: { name, namespace }, spec: { containers: [{ name: 'c', image: 'i' }] } });

describe('ResilientInformer', () => {
  it('restarts after failed lists until one succeeds', async () => {
    const ns = `ns-${++seq}`;
    addPod(ns, 'a');
    kube.failRequests({ verb: 'list', resource: 'pods', namespace: ns, times: 3, code: 500 });
    const { informer } = podInformer(ns);
    informer.start();
    await waitFor('synced', () => informer.synced, 5000);
    expect(informer.restarts).toBeGreaterThanOrEqual(3);
    expect(informer.get('a', ns)?.metadata?.name).toBe('a');
  });

  it('keeps delivering after the watch is cut, and after a 410 relists and reports objects deleted meanwhile', async () => {
    const ns = `ns-${++seq}`;
    addPod(ns, 'a');
    addPod(ns, 'b');
    const { informer, changes } = podInformer(ns);
    informer.start();
    await waitFor('synced', () => informer.synced);
    kube.dropWatches({ abrupt: true });
    addPod(ns, 'c');
    await waitFor('c seen', () => informer.get('c', ns) !== undefined, 5000);

    // While no watch runs, b goes and history is compacted: the next watch gets 410 and relists.
    kube.stallWatches();
    kube.delete('pods', 'b', ns);
    kube.compactHistory();
    kube.resumeWatches();
    kube.dropWatches();
    await waitFor('b gone from the cache', () => informer.get('b', ns) === undefined, 5000);
    expect(changes.filter((n) => n === 'b').length).toBeGreaterThanOrEqual(2);
    expect(informer.list(ns).map((p) => p.metadata?.name).sort()).toEqual(['a', 'c']);
  });

  it('restarts a watch that went silent, serving the old cache until the new list is in', async () => {
    const ns = `ns-${++seq}`;
    addPod(ns, 'a');
    const { informer } = podInformer(ns, 300);
    informer.start();
    await waitFor('synced', () => informer.synced);
    kube.stallWatches();
    addPod(ns, 'late');
    // The stalled watch never delivers 'late'; the stall check restarts the informer.
    await waitFor('late seen after a restart', () => informer.get('late', ns) !== undefined, 5000);
    expect(informer.restarts).toBeGreaterThanOrEqual(1);
    expect(informer.get('a', ns)).toBeDefined();
  });

  it('ignores the errors its own stop causes', async () => {
    const ns = `ns-${++seq}`;
    const { informer } = podInformer(ns);
    informer.start();
    await waitFor('synced', () => informer.synced);
    await informer.stop();
    await new Promise((r) => setTimeout(r, 200));
    expect(informer.restarts).toBe(0);
  });
});
