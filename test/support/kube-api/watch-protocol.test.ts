// The watch protocol through client-node's own Watch and informer (ListWatch) code: replay
// after a list's resourceVersion, synthetic ADDED, BOOKMARKs, 410 Expired (as an ERROR event
// and as HTTP 410) and the informer's re-list, timeoutSeconds, selector transitions, and the
// test hooks that break watches: clean and abrupt drops and silent stalls.
import { CustomObjectsApi, ListWatch, makeInformer, Watch, type KubernetesListObject, type KubernetesObject } from '@kubernetes/client-node';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { kubeConfigFor, waitFor } from './client-node-helpers.ts';
import { KubeApiDouble } from './kube-api-double.ts';
import { testTopicCrd, topic } from './test-topic-crd.ts';

const TOPICS = 'topics.sluice.dev';
const T = { group: 'sluice.dev', version: 'v1alpha1', plural: 'topics' } as const;

interface Seen {
  type: string;
  name?: string;
  rv?: string;
  object: Record<string, unknown>;
}

let kube: KubeApiDouble;
let api: CustomObjectsApi;
let watch: Watch;
const stops: (() => unknown)[] = [];

beforeAll(async () => {
  kube = await KubeApiDouble.start({ crds: [testTopicCrd()], bookmarkIntervalMs: 150 });
  const kc = kubeConfigFor(kube);
  api = kc.makeApiClient(CustomObjectsApi);
  watch = new Watch(kc);
});

afterAll(async () => {
  await kube.stop();
});

let seq = 0;
let ns: string;
beforeEach(() => {
  seq += 1;
  ns = `w-${seq}`;
  kube.clearFaults();
  kube.resumeWatches();
  kube.setExpiredWatchResponse('event');
});

afterEach(async () => {
  for (const stop of stops.splice(0)) await stop();
  // Each test starts with no watch open, so counts and stalls cannot leak between tests.
  await waitFor('watches of the last test to close', () => kube.openWatches() === 0);
});

const path = (namespace = ns) => `/apis/sluice.dev/v1alpha1/namespaces/${namespace}/topics`;
const put = (name: string, spec: Record<string, unknown> = { partitions: 1 }, labels?: Record<string, string>) =>
  kube.create(TOPICS, { ...topic(name, spec), metadata: { name, namespace: ns, ...(labels ? { labels } : {}) } });

/** Starts a client-node watch collecting events; resolves once the double has it open. */
async function startWatch(query: Record<string, string | number | boolean | undefined>, p = path()): Promise<{ events: Seen[]; done: Promise<unknown>; abort: () => void }> {
  const events: Seen[] = [];
  let finish: (err: unknown) => void = () => {};
  const done = new Promise<unknown>((resolve) => (finish = resolve));
  const watchesServed = () => kube.requests.filter((r) => r.verb === 'watch' && r.code !== 0).length;
  const before = watchesServed();
  const controller = await watch.watch(
    p,
    query,
    (type, obj: { metadata?: { name?: string; resourceVersion?: string } }) => events.push({ type, name: obj.metadata?.name, rv: obj.metadata?.resourceVersion, object: obj as Record<string, unknown> }),
    (err) => finish(err ?? null),
  );
  stops.push(() => controller.abort());
  // The request is recorded with its code once the double has registered the watch (or refused it).
  await waitFor('the watch to be served', () => watchesServed() > before);
  return { events, done, abort: () => controller.abort() };
}

const listTopics = (namespace: string) => async (): Promise<KubernetesListObject<KubernetesObject>> =>
  (await api.listNamespacedCustomObject({ ...T, namespace })) as KubernetesListObject<KubernetesObject>;

describe('watch streams', () => {
  it('replays every change after the list resourceVersion in order, then streams live changes', async () => {
    put('before');
    const listed = (await api.listNamespacedCustomObject({ ...T, namespace: ns })) as { metadata: { resourceVersion: string } };
    put('a');
    kube.patch(TOPICS, 'a', ns, { spec: { partitions: 2 } });
    kube.delete(TOPICS, 'a', ns);
    const w = await startWatch({ resourceVersion: listed.metadata.resourceVersion });
    await waitFor('3 replayed events', () => w.events.length >= 3);
    put('b');
    await waitFor('live ADDED', () => w.events.length >= 4);
    expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED a', 'MODIFIED a', 'DELETED a', 'ADDED b']);
    const rvs = w.events.map((e) => Number(e.rv));
    expect(rvs).toEqual([...rvs].sort((x, y) => x - y));
    expect(rvs[0]).toBeGreaterThan(Number(listed.metadata.resourceVersion));
    expect(new Set(rvs).size).toBe(4);
  });

  it('starts with synthetic ADDED events for existing objects when no resourceVersion is given', async () => {
    put('x');
    put('y');
    const w = await startWatch({});
    await waitFor('2 events', () => w.events.length >= 2);
    expect(w.events.map((e) => `${e.type} ${e.name}`)).toEqual(['ADDED x', 'ADDED y']);
  });

  it('sends BOOKMARKs with the latest resourceVersion only when allowWatchBookmarks=true', async () => {
    const quiet = await startWatch({ resourceVersion: kube.resourceVersion });
    const w = await startWatch({ resourceVersion: kube.resourceVersion, allowWatchBookmarks: true });
    put('bm');
    // A change in another resource still advances the global resourceVersion bookmarks carry.
    kube.create('nodes', { metadata: { name: `node-${seq}` } });
    await waitFor('a periodic bookmark', () => w.events.some((e) => e.type === 'BOOKMARK' && e.rv === kube.resourceVersion));
    kube.sendBookmarks();
    const bookmark = w.events.find((e) => e.type === 'BOOKMARK');
    expect(bookmark?.object).toEqual({ kind: 'Topic', apiVersion: 'sluice.dev/v1alpha1', metadata: { resourceVersion: bookmark?.rv } });
    expect(quiet.events.map((e) => e.type)).toEqual(['ADDED']);
  });

  it('ends the stream with one ERROR event carrying 410 Expired when the resourceVersion was compacted', async () => {
    const old = kube.resourceVersion;
    put('c');
    kube.compactHistory();
    const w = await startWatch({ resourceVersion: old });
    expect(await w.done).toBeNull();
    expect(w.events).toHaveLength(1);
    expect(w.events[0].type).toBe('ERROR');
    expect(w.events[0].object).toMatchObject({ kind: 'Status', status: 'Failure', code: 410, reason: 'Expired' });
    expect(String(w.events[0].object.message)).toMatch(/^too old resource version: \d+ \(\d+\)$/);
  });

  it('answers HTTP 410 up front when configured to, which client-node reports as a statusCode 410 error', async () => {
    kube.setExpiredWatchResponse('http');
    const old = kube.resourceVersion;
    put('d');
    kube.compactHistory();
    const w = await startWatch({ resourceVersion: old });
    expect(await w.done).toMatchObject({ statusCode: 410 });
    expect(w.events).toEqual([]);
  });

  it('ends the watch cleanly after timeoutSeconds', async () => {
    const started = Date.now();
    const w = await startWatch({ resourceVersion: kube.resourceVersion, timeoutSeconds: 1 });
    expect(await w.done).toBeNull();
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(kube.openWatches('topics')).toBe(0);
  });

  it('turns selector transitions into ADDED/DELETED, and a watch on an object path into a name filter', async () => {
    put('sel', { partitions: 1 }, { team: 'a' });
    put('other', { partitions: 1 }, { team: 'a' });
    const byLabel = await startWatch({ resourceVersion: kube.resourceVersion, labelSelector: 'team=a' });
    const byName = await startWatch({ resourceVersion: kube.resourceVersion }, `${path()}/sel`);
    kube.patch(TOPICS, 'sel', ns, { metadata: { labels: { team: 'b' } } });
    kube.patch(TOPICS, 'sel', ns, { spec: { partitions: 2 } });
    kube.patch(TOPICS, 'sel', ns, { metadata: { labels: { team: 'a' } } });
    kube.patch(TOPICS, 'other', ns, { spec: { partitions: 3 } });
    await waitFor('3 events by label', () => byLabel.events.length >= 3);
    await waitFor('3 events by name', () => byName.events.length >= 3);
    expect(byLabel.events.map((e) => `${e.type} ${e.name}`)).toEqual(['DELETED sel', 'ADDED sel', 'MODIFIED other']);
    expect(byName.events.map((e) => `${e.type} ${e.name}`)).toEqual(['MODIFIED sel', 'MODIFIED sel', 'MODIFIED sel']);
  });

  it('ends the initial events of sendInitialEvents=true with an initial-events-end BOOKMARK', async () => {
    put('i1');
    const w = await startWatch({ sendInitialEvents: true, resourceVersionMatch: 'NotOlderThan', allowWatchBookmarks: true, resourceVersion: '' });
    await waitFor('2 events', () => w.events.length >= 2);
    expect(w.events[0]).toMatchObject({ type: 'ADDED', name: 'i1' });
    expect(w.events[1]).toMatchObject({ type: 'BOOKMARK', object: { metadata: { annotations: { 'k8s.io/initial-events-end': 'true' } } } });
  });
});

describe('informers (client-node makeInformer / ListWatch)', () => {
  it('lists, then reports adds, updates and deletes from the watch', async () => {
    put('pre');
    const informer = makeInformer(kubeConfigFor(kube), path(), listTopics(ns));
    const log: string[] = [];
    informer.on('add', (o) => log.push(`add ${o.metadata?.name}`));
    informer.on('update', (o) => log.push(`update ${o.metadata?.name}`));
    informer.on('delete', (o) => log.push(`delete ${o.metadata?.name}`));
    await informer.start();
    stops.push(() => informer.stop());
    await kube.waitForWatches(1, { resource: 'topics' });
    put('new');
    kube.patch(TOPICS, 'new', ns, { spec: { partitions: 5 } });
    kube.delete(TOPICS, 'pre', ns);
    await waitFor('4 callbacks', () => log.length >= 4);
    expect(log).toEqual(['add pre', 'add new', 'update new', 'delete pre']);
    expect(informer.list(ns).map((o) => o.metadata?.name)).toEqual(['new']);
  });

  for (const expiredAs of ['event', 'http'] as const) {
    it(`re-lists after 410 Gone (${expiredAs === 'event' ? 'ERROR event' : 'HTTP 410'}) and converges, including deletions it missed`, async () => {
      kube.setExpiredWatchResponse(expiredAs);
      put('keep');
      put('gone');
      const informer = makeInformer(kubeConfigFor(kube), path(), listTopics(ns));
      const log: string[] = [];
      const errors: unknown[] = [];
      informer.on('add', (o) => log.push(`add ${o.metadata?.name}`));
      informer.on('delete', (o) => log.push(`delete ${o.metadata?.name}`));
      informer.on('error', (e) => errors.push(e));
      await informer.start();
      stops.push(() => informer.stop());
      await kube.waitForWatches(1, { resource: 'topics' });
      const listsBefore = kube.requests.filter((r) => r.verb === 'list' && r.namespace === ns).length;

      // Blind the informer: its watch goes silent while changes happen and the history they are
      // in is compacted away; then the stream ends and it reconnects from its last resourceVersion.
      kube.stallWatches();
      kube.delete(TOPICS, 'gone', ns);
      put('fresh');
      kube.compactHistory();
      kube.dropWatches();

      await waitFor('re-list result', () => log.includes('delete gone') && log.includes('add fresh'));
      expect(kube.requests.filter((r) => r.verb === 'list' && r.namespace === ns).length).toBe(listsBefore + 1);
      expect(informer.list(ns).map((o) => o.metadata?.name).sort()).toEqual(['fresh', 'keep']);
      expect(errors).toEqual([]);
      // And it keeps watching from the new list.
      put('after');
      await waitFor('live add after re-list', () => log.includes('add after'));
    });
  }

  it('recovers from a silent stall through the client-side inactivity timeout', async () => {
    const w = new Watch(kubeConfigFor(kube));
    // client-node aborts a watch that has been silent for requestTimeoutMs (30 s by default) —
    // its only defence against a stalled stream. Shortened here so the test runs in a second.
    (w as unknown as { requestTimeoutMs: number }).requestTimeoutMs = 300;
    const informer = new ListWatch(path(), w, listTopics(ns), false);
    const seen: string[] = [];
    informer.on('add', (o) => seen.push(o.metadata?.name ?? ''));
    await informer.start();
    stops.push(() => informer.stop());
    await kube.waitForWatches(1, { resource: 'topics' });
    put('live');
    await waitFor('live add', () => seen.includes('live'), 1000);

    kube.stallWatches({ includeNew: true });
    put('during-stall');
    const watchesAtStall = kube.requests.filter((r) => r.verb === 'watch' && r.namespace === ns).length;
    await new Promise((r) => setTimeout(r, 700));
    expect(seen).not.toContain('during-stall');
    // The client gave up on the silent stream at least once and tried again (into the stall).
    expect(kube.requests.filter((r) => r.verb === 'watch' && r.namespace === ns).length).toBeGreaterThan(watchesAtStall);

    kube.resumeWatches();
    await waitFor('catch-up after the stall', () => seen.includes('during-stall'), 2000);
    expect(seen.filter((n) => n === 'during-stall')).toHaveLength(1);
  });

  it('reports an abrupt connection reset as an informer error; restarting from the error handler resumes from the last resourceVersion', async () => {
    const informer = makeInformer(kubeConfigFor(kube), path(), listTopics(ns));
    const seen: string[] = [];
    let errors = 0;
    let stopping = false;
    informer.on('add', (o) => seen.push(o.metadata?.name ?? ''));
    informer.on('error', () => {
      // stop() itself reports an AbortError here; only restart on errors the test provoked.
      if (stopping) return;
      errors += 1;
      // The documented client-node pattern: an informer stops on errors; the owner restarts it.
      setTimeout(() => void informer.start(), 20);
    });
    await informer.start();
    stops.push(() => {
      stopping = true;
      return informer.stop();
    });
    await kube.waitForWatches(1, { resource: 'topics' });
    const listsBefore = kube.requests.filter((r) => r.verb === 'list' && r.namespace === ns).length;

    kube.dropWatches({ abrupt: true });
    await waitFor('the error callback', () => errors === 1);
    put('after-reset');
    await waitFor('add after restart', () => seen.includes('after-reset'));
    // Restarted from its resourceVersion: a watch, no new list.
    expect(kube.requests.filter((r) => r.verb === 'list' && r.namespace === ns).length).toBe(listsBefore);
  });

  it('sees an injected list failure as an error, and succeeds on restart', async () => {
    kube.failRequests({ verb: 'list', resource: 'topics', namespace: ns, code: 500 });
    put('z');
    const informer = makeInformer(kubeConfigFor(kube), path(), listTopics(ns));
    const errors: unknown[] = [];
    informer.on('error', (e) => errors.push(e));
    await informer.start();
    stops.push(() => informer.stop());
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ code: 500 });
    await informer.start();
    expect(informer.list(ns).map((o) => o.metadata?.name)).toEqual(['z']);
  });
});
