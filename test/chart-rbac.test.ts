// The chart's RBAC is exactly what the operator uses. The operator runs in-process with the
// configuration the chart gives it (namespace, broker selector, Lease name, read from the rendered
// Deployment) against the Kubernetes API double, through everything that calls the API: election,
// informers, Topic create / reconcile / refusal / deletion, Events (new and aggregated), broker
// Pod loss, AdminService calls, and a clean stop. Every request it makes must be allowed by the
// rendered Role and ClusterRole — and every verb those grant must have been used.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../common/logger.ts';
import { containerEnv, find, renderChart, withProcessEnv } from './support/chart-testing.ts';
import { FakeBroker, KubeFixture, NAMESPACE } from '../operator/kubernetes/operator-harness.ts';
import { parseOperatorArgs, type OperatorCliOptions } from '../operator/kubernetes/operator-options.ts';
import { startOperator, type RunningOperator } from '../operator/kubernetes/operator-server.ts';
import type { TopicObject } from '../operator/kubernetes/topic-resource.ts';
import { adminClient, unary } from '../operator/local/broker-session-double.ts';
import type { RecordedRequest } from './support/kube-api/kube-api-double.ts';
import { waitFor } from './support/cluster.ts';

interface Rule {
  apiGroups: string[];
  resources: string[];
  resourceNames?: string[];
  verbs: string[];
}

const objects = renderChart([], { namespace: NAMESPACE });
const role = find(objects, 'Role');
const clusterRole = find(objects, 'ClusterRole');
const sts = find(objects, 'StatefulSet');

function chartOperatorOptions(): OperatorCliOptions {
  const c = find(objects, 'Deployment').spec.template.spec.containers[0];
  const env = containerEnv(c, 'sluice-operator-7f9c8-abcde', NAMESPACE);
  return withProcessEnv(env, () => parseOperatorArgs(c.args ?? [], env));
}

/** The Role or ClusterRole rule that allows a request, if any (RBAC: any matching rule allows). */
function allowingRule(r: RecordedRequest, rules: readonly Rule[]): Rule | undefined {
  const resource = r.subresource ? `${r.resource}/${r.subresource}` : r.resource!;
  return rules.find(
    (rule) =>
      rule.apiGroups.includes(r.group ?? '') &&
      rule.resources.includes(resource) &&
      rule.verbs.includes(r.verb!) &&
      // resourceNames cannot restrict create, list or watch: such a rule never allows them.
      (rule.resourceNames === undefined || (r.name !== undefined && rule.resourceNames.includes(r.name))),
  );
}

let fx: KubeFixture;
let operator: RunningOperator | undefined;
const brokers: FakeBroker[] = [];
const options = chartOperatorOptions();

function addBrokerPod(ordinal: number): void {
  // A Pod as the chart's StatefulSet makes it: its name and its template's labels.
  const pod = fx.kube.create('pods', {
    metadata: { name: `${sts.metadata.name}-${ordinal}`, namespace: NAMESPACE, labels: { ...sts.spec.template.metadata.labels, 'apps.kubernetes.io/pod-index': String(ordinal) } },
    spec: { nodeName: `node-${ordinal}`, containers: [{ name: 'broker', image: 'sluice:test' }] },
  });
  fx.kube.replaceStatus('pods', { ...pod, status: { phase: 'Running' } });
}

const activeBrokers = () => operator?.current()?.committed.current.brokers.filter((b) => b.state === 'active').length ?? 0;
const topic = (name: string) => fx.kube.find('topics.sluice.dev', name, NAMESPACE) as unknown as TopicObject | undefined;
const condition = (name: string, type: string) => topic(name)?.status?.conditions?.find((c) => c.type === type);
const requested = (verb: string, resource: string) => fx.kube.requests.some((r) => r.verb === verb && (r.subresource ? `${r.resource}/${r.subresource}` : r.resource) === resource);

beforeAll(async () => {
  fx = await KubeFixture.start();
  for (const [i, zone] of ['zone-a', 'zone-b', 'zone-c'].entries()) {
    fx.addNode(`node-${i}`, zone);
    addBrokerPod(i);
  }
  fx.kube.requests.length = 0;
});

afterAll(async () => {
  for (const b of brokers) b.stop();
  await operator?.stop();
  await fx?.stop();
}, 30_000);

describe('the chart RBAC against the operator\'s real API calls', () => {
  it('allows every request the operator makes, and grants nothing it does not use', async () => {
    expect(options.namespace).toBe(NAMESPACE);
    operator = await startOperator({
      ...options,
      namespace: NAMESPACE,
      kubeConfig: fx.kubeConfig,
      host: '127.0.0.1',
      port: 0,
      httpPort: 0,
      sessionTimeoutMs: 3000,
      heartbeatIntervalMs: 200,
      leaderRebalanceIntervalMs: 0,
      leaseDurationMs: 3000,
      renewDeadlineMs: 2000,
      retryPeriodMs: 200,
      resyncIntervalMs: 1000,
      logger: silentLogger(),
    });
    await waitFor('the operator to lead', () => (operator!.current() ? true : undefined), 10_000);
    for (let i = 0; i < 3; i++) brokers.push(new FakeBroker(operator.grpcAddress, i).start());
    await waitFor('three brokers registered (the chart\'s selector finds the chart\'s broker Pods)', () => (activeBrokers() === 3 ? true : undefined), 10_000);

    // A Topic applied with kubectl (not through the operator, so not one of its requests).
    fx.kube.create('topics.sluice.dev', { apiVersion: 'sluice.dev/v1alpha1', kind: 'Topic', metadata: { name: 'orders', namespace: NAMESPACE }, spec: { partitions: 3, replicationFactor: 3 } });
    await waitFor('orders Ready', () => (condition('orders', 'Ready')?.status === 'True' ? true : undefined), 10_000);

    // A refused Topic: a Warning Event. Its message names the live brokers, so losing broker 2
    // changes it (a second Event) and getting broker 2 back repeats the first (an aggregated patch).
    fx.kube.create('topics.sluice.dev', { apiVersion: 'sluice.dev/v1alpha1', kind: 'Topic', metadata: { name: 'wide', namespace: NAMESPACE }, spec: { partitions: 1, replicationFactor: 5 } });
    await waitFor('wide refused', () => (condition('wide', 'Ready')?.reason === 'NotEnoughBrokers' ? true : undefined), 10_000);
    fx.deletePod(2);
    await waitFor('broker 2 fenced', () => (activeBrokers() === 2 ? true : undefined), 10_000);
    // The StatefulSet's replacement Pod, and its broker process (a new incarnation).
    addBrokerPod(2);
    brokers[2]!.stop();
    brokers[2] = new FakeBroker(operator.grpcAddress, 2).start();
    await waitFor('broker 2 back', () => (activeBrokers() === 3 ? true : undefined), 15_000);
    await waitFor('the repeated Event aggregated by a patch', () => (requested('patch', 'events') ? true : undefined), 10_000);

    // AdminService (the CLI in Kubernetes mode) acts on Topic objects.
    const admin = adminClient(operator.grpcAddress);
    try {
      await unary(admin.CreateTopic.bind(admin), { name: 'made-by-cli', partitions: 1, replication_factor: 3 });
      await unary(admin.AlterTopic.bind(admin), { name: 'made-by-cli', partitions: 2 });
      await unary(admin.DeleteTopic.bind(admin), { name: 'made-by-cli' });
    } finally {
      admin.close();
    }

    // kubectl delete: the operator deletes the data, then removes its finalizer.
    fx.kube.delete('topics.sluice.dev', 'orders', NAMESPACE);
    await waitFor('orders gone', () => (topic('orders') ? undefined : true), 15_000);

    // A clean stop releases the Lease.
    await operator.stop();
    operator = undefined;

    const requests = fx.kube.requests.filter((r) => r.verb !== undefined);
    const roleRules = role.rules as Rule[];
    const clusterRules = clusterRole.rules as Rule[];
    const refused = requests.filter((r) => (r.namespace === undefined ? !allowingRule(r, clusterRules) : r.namespace !== NAMESPACE || !allowingRule(r, roleRules)));
    expect(refused.map((r) => `${r.verb} ${r.group ?? ''}/${r.resource}${r.subresource ? `/${r.subresource}` : ''} ${r.namespace ?? '(cluster)'} ${r.name ?? ''}`)).toEqual([]);

    // Least privilege: each verb of each rule was needed.
    const unused = (rules: Rule[], namespaced: boolean): string[] =>
      rules.flatMap((rule) =>
        rule.verbs.filter((verb) => !requests.some((r) => (r.namespace !== undefined) === namespaced && r.verb === verb && allowingRule(r, [rule]) !== undefined)).map((verb) => `${verb} ${rule.resources.join(',')}${rule.resourceNames ? ` [${rule.resourceNames.join(',')}]` : ''}`),
      );
    expect([...unused(roleRules, true), ...unused(clusterRules, false)]).toEqual([]);
  }, 90_000);

  it('names the Lease the operator elects with in the rule that limits get and update to it', () => {
    const named = (role.rules as Rule[]).filter((r) => r.resourceNames);
    expect(named).toEqual([{ apiGroups: ['coordination.k8s.io'], resources: ['leases'], resourceNames: [options.leaseName], verbs: ['get', 'update'] }]);
    expect(fx.kube.find('leases.coordination.k8s.io', options.leaseName, NAMESPACE)).toBeDefined();
  });
});
