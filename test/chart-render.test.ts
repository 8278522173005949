// The Helm chart (charts/sluice) rendered by the real helm binary: lint passes, every object is
// valid for the Kubernetes API, and what an operator of the cluster relies on is true of the
// rendered objects — the brokers start with the right id and addresses (checked with the brokers'
// and the operator's own option parsers), probes, disruption budget, placement, restricted
// securityContexts, least-privilege RBAC, the CRD, the dashboard and the alert rules.
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadBrokerConfig, type BrokerConfig } from '../broker/broker-config.ts';
import { CHART_DIR, helm, readRepoFile } from '../charts/chart-files.ts';
import { containerEnv, find, podTemplates, renderChart, renderNotes, restrictedViolations, unknownFields, validationProblems, withProcessEnv, type K8sObject } from './support/chart-testing.ts';
import { brokerIdOfPod } from '../operator/kubernetes/broker-pods.ts';
import { parseOperatorArgs, type OperatorCliOptions } from '../operator/kubernetes/operator-options.ts';

const NS = 'streaming';
const ALL_ON = `${CHART_DIR}/ci/all-on-values.yaml`;
/** Layered over ALL_ON: the PodMonitor instead of the ServiceMonitors (the chart refuses both). */
const ALL_ON_PODMONITOR = `${CHART_DIR}/ci/all-on-podmonitor-values.yaml`;
const defaults = renderChart();
const allOn = renderChart(['-f', ALL_ON]);
const allOnPodMonitor = renderChart(['-f', ALL_ON, '-f', ALL_ON_PODMONITOR]);

const matches = (selector: Record<string, string>, labels: Record<string, string> | undefined) => Object.entries(selector).every(([k, v]) => labels?.[k] === v);
const workload = (objects: K8sObject[], kind: 'StatefulSet' | 'Deployment') => find(objects, kind);
const container = (o: K8sObject) => o.spec.template.spec.containers[0];
const portNumber = (c: any, name: string): number => c.ports.find((p: any) => p.name === name).containerPort;

/** The broker's configuration as its own parser reads it from the rendered pod of ordinal `ordinal`. */
function brokerConfig(objects: K8sObject[], ordinal: number): { config: BrokerConfig; podName: string } {
  const sts = workload(objects, 'StatefulSet');
  const c = container(sts);
  const podName = `${sts.metadata.name}-${ordinal}`;
  const env = containerEnv(c, podName, NS);
  const [shell, flag, script] = c.command as string[];
  expect([shell, flag]).toEqual(['/bin/sh', '-c']);
  expect(script).toMatch(/^exec node broker\/main\.ts /);
  // The real shell expands the real command line; only `exec node broker/main.ts` is swapped
  // for printf, which prints the arguments the broker would get.
  const args = execFileSync('/bin/sh', ['-c', script!.replace(/^exec node broker\/main\.ts/, 'printf "%s\\0"')], { env: { ...env, PATH: process.env.PATH }, encoding: 'utf8' })
    .split('\0')
    .filter((a) => a !== '');
  const loaded = loadBrokerConfig(args, env);
  if (loaded.help) throw new Error('the broker command asks for --help');
  return { config: loaded.config, podName };
}

function operatorOptions(objects: K8sObject[]): OperatorCliOptions {
  const dep = workload(objects, 'Deployment');
  const c = container(dep);
  expect(c.command).toEqual(['node', 'operator/kubernetes/operator-main.ts']);
  const env = containerEnv(c, `${dep.metadata.name}-6d4cf56db6-x7k2p`, NS);
  return withProcessEnv(env, () => parseOperatorArgs(c.args ?? [], env));
}

describe('helm lint', () => {
  it('passes with the default values and with every option on, either monitor (--strict: warnings fail)', () => {
    expect(helm(['lint', '--strict', CHART_DIR])).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(helm(['lint', '--strict', CHART_DIR, '-f', ALL_ON])).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
    expect(helm(['lint', '--strict', CHART_DIR, '-f', ALL_ON, '-f', ALL_ON_PODMONITOR])).toMatch(/1 chart\(s\) linted, 0 chart\(s\) failed/);
  });
});

describe('Kubernetes version', () => {
  it('requires what the CRD uses: CEL rules with reason and fieldPath (1.28), messageExpression (1.27)', () => {
    const chart = parse(readRepoFile(`${CHART_DIR}/Chart.yaml`)) as { kubeVersion: string };
    const fields = new Set<string>();
    const collect = (schema: unknown): void => {
      if (schema === null || typeof schema !== 'object') return;
      for (const r of (schema as Record<string, any>)['x-kubernetes-validations'] ?? []) for (const k of Object.keys(r)) fields.add(k);
      for (const v of Object.values(schema)) collect(v);
    };
    collect(parse(readRepoFile('deploy/crds/topics.sluice.dev.yaml')));
    expect([...fields]).toEqual(expect.arrayContaining(['reason', 'fieldPath', 'messageExpression']));
    expect(chart.kubeVersion).toBe('>=1.28.0-0');
    // Helm enforces it: an older cluster (or `helm template` at Helm's default version) is refused.
    expect(() => renderChart(['--kube-version', '1.27.9'])).toThrow(/chart requires kubeVersion: >=1\.28\.0-0 which is incompatible with Kubernetes v1\.27\.9/);
    expect(renderChart(['--kube-version', '1.28.0']).length).toBeGreaterThan(10);
  });
});

describe('the validation used here', () => {
  it('refuses what the API server would: a wrong type, a missing field, a misspelt field deep in a pod template', () => {
    const sts = structuredClone(find(defaults, 'StatefulSet'));
    expect(validationProblems(sts)).toEqual([]);
    sts.spec.template.spec.containers[0].securityContext.seccompProfle = { type: 'RuntimeDefault' };
    sts.spec.replicas = 'three';
    delete sts.spec.selector;
    const problems = validationProblems(sts).join('\n');
    expect(problems).toMatch(/replicas must be integer/);
    expect(problems).toMatch(/must have required property selector/);
    expect(unknownFields(sts, 'V1StatefulSet')).toEqual(['.spec.template.spec.containers[0].securityContext.seccompProfle']);
    expect(restrictedViolations({ containers: [{ name: 'c', securityContext: {} }] }).length).toBeGreaterThanOrEqual(4);
  });
});

describe.each([
  ['default values', defaults],
  ['every option on', allOn],
  ['every option on, the PodMonitor instead of the ServiceMonitors', allOnPodMonitor],
])('rendered with %s', (_, objects) => {
  it('gives objects that all validate against the Kubernetes API schemas, with no unknown field', () => {
    expect(objects.length).toBeGreaterThan(10);
    expect(objects.flatMap(validationProblems)).toEqual([]);
  });

  it('puts every namespaced object in the release namespace', () => {
    const clusterScoped = new Set(['CustomResourceDefinition', 'ClusterRole', 'ClusterRoleBinding', 'Namespace']);
    const dashboardNs = objects === defaults ? NS : 'monitoring';
    for (const o of objects.filter((x) => !clusterScoped.has(x.kind))) {
      expect(o.metadata.namespace, `${o.kind}/${o.metadata.name}`).toBe(o.kind === 'ConfigMap' ? dashboardNs : NS);
    }
  });

  it('runs every pod and container under the restricted Pod Security Standard, read-only root filesystem', () => {
    const pods = podTemplates(objects);
    expect(pods).toHaveLength(2);
    for (const pod of pods) {
      expect(restrictedViolations(pod.spec), pod.owner).toEqual([]);
      for (const c of pod.spec.containers) expect(c.securityContext.readOnlyRootFilesystem, `${pod.owner} ${c.name}`).toBe(true);
      // Service links would inject SLUICE_OPERATOR_PORT=tcp://… (Service `sluice-operator`).
      expect(pod.spec.enableServiceLinks, pod.owner).toBe(false);
    }
    // The broker volume is writable by the image's user.
    expect(workload(objects, 'StatefulSet').spec.template.spec.securityContext.fsGroup).toBe(1000);
  });

  it('starts each broker with its ordinal as id, its stable DNS name, and the operator Service as controller', () => {
    const sts = workload(objects, 'StatefulSet');
    const headless = find(objects, 'Service', sts.spec.serviceName);
    const operatorService = objects.find((o) => o.kind === 'Service' && matches(o.spec.selector ?? {}, workload(objects, 'Deployment').spec.template.metadata.labels) && o.spec.clusterIP !== 'None')!;
    for (const ordinal of [0, 2]) {
      const { config, podName } = brokerConfig(objects, ordinal);
      expect(config.id).toBe(ordinal);
      // The operator derives the same id from the Pod (fencing and registration match it).
      expect(brokerIdOfPod({ metadata: { name: podName } })).toBe(ordinal);
      expect(config.host).toBe(`${podName}.${headless.metadata.name}.${NS}.svc`);
      expect(config.bindHost).toBe('0.0.0.0');
      const grpcPort = operatorService.spec.ports.find((p: any) => p.name === 'grpc').port;
      expect(config.controller).toBe(`${operatorService.metadata.name}.${NS}.svc:${grpcPort}`);
    }
  });

  it('keeps broker data on the PersistentVolumeClaim of each pod', () => {
    const sts = workload(objects, 'StatefulSet');
    const { config } = brokerConfig(objects, 1);
    const mount = container(sts).volumeMounts.find((m: any) => m.name === 'data');
    expect(config.dataDir.startsWith(`${mount.mountPath}/`)).toBe(true);
    expect(sts.spec.volumeClaimTemplates.map((t: any) => t.metadata.name)).toEqual(['data']);
    expect(sts.spec.template.spec.volumes.map((v: any) => v.name)).not.toContain('data');
  });

  it('probes brokers on the ports they serve: gRPC health for readiness, HTTP /healthz for startup and liveness', () => {
    const c = container(workload(objects, 'StatefulSet'));
    const { config } = brokerConfig(objects, 0);
    expect(portNumber(c, 'grpc')).toBe(config.port);
    expect(portNumber(c, 'http')).toBe(config.httpPort);
    expect(c.readinessProbe.grpc).toEqual({ port: config.port });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    expect(c.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    // Long enough for log recovery after a crash before liveness may restart the broker.
    expect(c.startupProbe.periodSeconds * c.startupProbe.failureThreshold).toBeGreaterThanOrEqual(300);
  });

  it('gives a stopping broker more grace than its preStop sleep, controlled shutdown and drain together', () => {
    const pod = workload(objects, 'StatefulSet').spec.template.spec;
    const { config } = brokerConfig(objects, 0);
    const sleep = pod.containers[0].lifecycle.preStop.exec.command;
    expect(sleep[0]).toBe('sleep');
    const needed = Number(sleep[1]) + (config.controlledShutdownTimeoutMs + config.shutdownTimeoutMs) / 1000;
    expect(config.controlledShutdownTimeoutMs).toBeGreaterThan(0);
    expect(pod.terminationGracePeriodSeconds).toBeGreaterThan(needed);
  });

  it('configures the operator for this release: its namespace, exactly its brokers, its Lease, its ports', () => {
    const options = operatorOptions(objects);
    const dep = workload(objects, 'Deployment');
    const c = container(dep);
    expect(options.namespace).toBe(NS);
    const selector = Object.fromEntries(options.brokerSelector.split(',').map((kv) => kv.split('=') as [string, string]));
    expect(selector['app.kubernetes.io/component']).toBe('broker');
    expect(matches(selector, workload(objects, 'StatefulSet').spec.template.metadata.labels)).toBe(true);
    expect(matches(selector, dep.spec.template.metadata.labels)).toBe(false);
    expect(portNumber(c, 'grpc')).toBe(options.port);
    expect(portNumber(c, 'http')).toBe(options.httpPort);
    const leaseRule = find(objects, 'Role').rules!.find((r) => r.resources.includes('leases') && r.resourceNames);
    expect(leaseRule.resourceNames).toEqual([options.leaseName]);
  });

  it('runs the operator replicated with leader election: readiness is /readyz (the active controller), liveness /healthz', () => {
    const dep = workload(objects, 'Deployment');
    const c = container(dep);
    expect(dep.spec.replicas).toBeGreaterThanOrEqual(2);
    expect(c.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
    expect(c.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
    // Only the leader is ever Ready: a rollout must not wait for new pods to be Ready first, and
    // the standbys that never become available must not fail it after a progress deadline
    // (2147483647 is the API's "no deadline").
    expect(dep.spec.strategy.rollingUpdate.maxUnavailable).toBe('100%');
    expect(dep.spec.progressDeadlineSeconds).toBe(2147483647);
  });

  it('routes brokers to the operator through a Service of the operator pods, and clients to Ready brokers', () => {
    const brokerLabels = workload(objects, 'StatefulSet').spec.template.metadata.labels;
    const operatorLabels = workload(objects, 'Deployment').spec.template.metadata.labels;
    const services = objects.filter((o) => o.kind === 'Service');
    const headless = find(objects, 'Service', workload(objects, 'StatefulSet').spec.serviceName);
    expect(headless.spec.clusterIP).toBe('None');
    expect(headless.spec.publishNotReadyAddresses).toBe(true);
    expect(matches(headless.spec.selector, brokerLabels)).toBe(true);
    const client = services.filter((s) => s.spec.clusterIP !== 'None' && matches(s.spec.selector, brokerLabels));
    expect(client).toHaveLength(1);
    expect(client[0]!.spec.publishNotReadyAddresses).toBeFalsy();
    expect(client[0]!.spec.ports.map((p: any) => p.targetPort)).toEqual(['grpc']);
    const toOperator = services.filter((s) => s.spec.clusterIP !== 'None' && matches(s.spec.selector, operatorLabels));
    expect(toOperator).toHaveLength(1);
    expect(toOperator[0]!.spec.ports.map((p: any) => p.targetPort).sort()).toEqual(['grpc', 'http']);
    expect(toOperator[0]!.spec.publishNotReadyAddresses).toBeFalsy();
  });

  it('limits voluntary disruption of brokers with a PodDisruptionBudget', () => {
    const pdb = find(objects, 'PodDisruptionBudget');
    const sts = workload(objects, 'StatefulSet');
    expect(matches(pdb.spec.selector.matchLabels, sts.spec.template.metadata.labels)).toBe(true);
    expect(pdb.spec.maxUnavailable).toBeGreaterThanOrEqual(1);
    expect(pdb.spec.maxUnavailable).toBeLessThan(sts.spec.replicas);
  });

  it('spreads brokers over nodes and zones', () => {
    const sts = workload(objects, 'StatefulSet');
    const spec = sts.spec.template.spec;
    const anti = spec.affinity.podAntiAffinity;
    const terms = [...(anti.requiredDuringSchedulingIgnoredDuringExecution ?? []), ...(anti.preferredDuringSchedulingIgnoredDuringExecution ?? []).map((t: any) => t.podAffinityTerm)];
    expect(terms.some((t: any) => t.topologyKey === 'kubernetes.io/hostname' && matches(t.labelSelector.matchLabels, sts.spec.template.metadata.labels))).toBe(true);
    expect(spec.topologySpreadConstraints.some((t: any) => t.topologyKey === 'topology.kubernetes.io/zone')).toBe(true);
    expect(sts.spec.podManagementPolicy).toBe('Parallel');
  });

  it('gives the operator exactly the RBAC it uses: namespaced Topics, Pods, its Lease, Events; Nodes read-only', () => {
    const role = find(objects, 'Role');
    const options = operatorOptions(objects);
    const rules = role.rules!.map((r) => ({ groups: r.apiGroups, resources: r.resources, names: r.resourceNames ?? [], verbs: r.verbs }));
    expect(rules).toEqual([
      { groups: ['sluice.dev'], resources: ['topics'], names: [], verbs: ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'] },
      { groups: ['sluice.dev'], resources: ['topics/status'], names: [], verbs: ['update'] },
      { groups: [''], resources: ['pods'], names: [], verbs: ['list', 'watch'] },
      { groups: ['coordination.k8s.io'], resources: ['leases'], names: [], verbs: ['create'] },
      { groups: ['coordination.k8s.io'], resources: ['leases'], names: [options.leaseName], verbs: ['get', 'update'] },
      { groups: [''], resources: ['events'], names: [], verbs: ['create', 'patch'] },
    ]);
    const clusterRole = find(objects, 'ClusterRole');
    expect(clusterRole.rules).toEqual([{ apiGroups: [''], resources: ['nodes'], verbs: ['list', 'watch'] }]);
    // Both bound to the operator's ServiceAccount, and only to it.
    const sa = workload(objects, 'Deployment').spec.template.spec.serviceAccountName;
    for (const [binding, roleObj] of [[find(objects, 'RoleBinding'), role], [find(objects, 'ClusterRoleBinding'), clusterRole]] as const) {
      expect(binding.roleRef).toEqual({ apiGroup: 'rbac.authorization.k8s.io', kind: roleObj.kind, name: roleObj.metadata.name });
      expect(binding.subjects).toEqual([{ kind: 'ServiceAccount', name: sa, namespace: NS }]);
    }
    find(objects, 'ServiceAccount', sa);
    // Brokers never call the API: no token in their pods.
    const brokerPod = workload(objects, 'StatefulSet').spec.template.spec;
    expect(brokerPod.automountServiceAccountToken).toBe(false);
    expect(brokerPod.serviceAccountName).not.toBe(sa);
  });

  it('ships the Topic CRD as generated, with its CEL rules and printer columns', () => {
    const crd = find(objects, 'CustomResourceDefinition', 'topics.sluice.dev');
    expect(crd).toEqual(parse(readRepoFile('deploy/crds/topics.sluice.dev.yaml')));
    const version = crd.spec.versions[0];
    expect(version.additionalPrinterColumns.map((c: any) => c.name)).toEqual(['Partitions', 'Replicas', 'Ready', 'UnderReplicated', 'Offline', 'Age']);
    const rules: string[] = [];
    const collect = (schema: any): void => {
      if (schema === null || typeof schema !== 'object') return;
      for (const r of schema['x-kubernetes-validations'] ?? []) rules.push(r.rule);
      for (const v of Object.values(schema)) collect(v);
    };
    collect(version.schema.openAPIV3Schema);
    // What the API server refuses before the operator sees it (DESIGN §7).
    expect(rules).toContain('self.partitions >= oldSelf.partitions');
    expect(rules.some((r) => r.includes('self.topicName == oldSelf.topicName'))).toBe(true);
    expect(rules.some((r) => r.includes('min__dot__insync__dot__replicas') && r.includes('replicationFactor'))).toBe(true);
  });

});

describe('defaults', () => {
  it('install the CRD, the operator (2 replicas) with its RBAC, 3 brokers with 10Gi claims, Services, a PDB — no monitors, no dashboard', () => {
    expect(defaults.map((o) => `${o.kind}/${o.metadata.name}`).sort()).toEqual(
      [
        'ClusterRole/streaming-sluice-operator',
        'ClusterRoleBinding/streaming-sluice-operator',
        'CustomResourceDefinition/topics.sluice.dev',
        'Deployment/sluice-operator',
        'PodDisruptionBudget/sluice-broker',
        'Role/sluice-operator',
        'RoleBinding/sluice-operator',
        'Service/sluice',
        'Service/sluice-broker-headless',
        'Service/sluice-operator',
        'ServiceAccount/sluice-broker',
        'ServiceAccount/sluice-operator',
        'StatefulSet/sluice-broker',
      ].sort(),
    );
    expect(find(defaults, 'Deployment').spec.replicas).toBe(2);
    const sts = find(defaults, 'StatefulSet');
    expect(sts.spec.replicas).toBe(3);
    expect(sts.spec.volumeClaimTemplates[0].spec).toMatchObject({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '10Gi' } } });
    expect(sts.spec.volumeClaimTemplates[0].spec.storageClassName).toBeUndefined();
    expect(find(defaults, 'PodDisruptionBudget').spec.maxUnavailable).toBe(1);
    for (const pod of podTemplates(defaults)) {
      const c = pod.spec.containers[0];
      expect(c.image, pod.owner).toBe('sluice:0.1.0');
      expect(c.resources.requests, pod.owner).toBeDefined();
      expect(c.resources.limits.memory, pod.owner).toBeDefined();
    }
  });

  it('keep the active controller Ready through one slow /readyz answer: the operator Service is brokers\' only way to it', () => {
    const probe = container(find(defaults, 'Deployment')).readinessProbe;
    // An event-loop stall of a few seconds, answered late once: not yet a failure, and one
    // failure alone does not mark the pod not Ready.
    expect(probe.timeoutSeconds).toBeGreaterThanOrEqual(3);
    expect(probe.failureThreshold).toBeGreaterThanOrEqual(2);
    expect(probe.successThreshold ?? 1).toBe(1);
  });

  it('let a restarted broker stay Ready 10 s before a rolling update restarts the next one', () => {
    expect(find(defaults, 'StatefulSet').spec.minReadySeconds).toBe(10);
  });
});

describe('the monitors', () => {
  it('are refused together: both would scrape every pod, double every series and fire SluiceSeveralActiveControllers', () => {
    const both = ['--set', 'metrics.serviceMonitor.enabled=true', '--set', 'metrics.podMonitor.enabled=true'];
    expect(() => renderChart(both)).toThrow(/metrics\.serviceMonitor\.enabled and metrics\.podMonitor\.enabled are both true: .*SluiceSeveralActiveControllers\. Enable one of them\./);
    expect(() => helm(['lint', CHART_DIR, ...both])).toThrow(/1 chart\(s\) linted, 1 chart\(s\) failed/);
    // Either one alone renders.
    expect(renderChart([both[0]!, both[1]!]).filter((o) => o.kind === 'ServiceMonitor')).toHaveLength(2);
    expect(renderChart([both[2]!, both[3]!]).filter((o) => o.kind === 'PodMonitor')).toHaveLength(1);
    expect(allOn.filter((o) => o.kind === 'PodMonitor')).toEqual([]);
    expect(allOnPodMonitor.filter((o) => o.kind === 'ServiceMonitor' || o.metadata.name.endsWith('-operator-metrics'))).toEqual([]);
  });
});

describe('every option on', () => {
  it('adds ServiceMonitors that reach every broker and every operator replica, Ready or not', () => {
    const monitors = allOn.filter((o) => o.kind === 'ServiceMonitor');
    expect(monitors).toHaveLength(2);
    for (const [component, workloadKind] of [['broker', 'StatefulSet'], ['operator', 'Deployment']] as const) {
      const sm = monitors.find((m) => m.metadata.labels?.['app.kubernetes.io/component'] === component)!;
      expect(sm.metadata.labels?.release).toBe('kube-prometheus-stack');
      const services = allOn.filter((s) => s.kind === 'Service' && matches(sm.spec.selector.matchLabels, s.metadata.labels));
      expect(services, component).toHaveLength(1);
      expect(services[0]!.spec.publishNotReadyAddresses).toBe(true);
      expect(matches(services[0]!.spec.selector, workload(allOn, workloadKind).spec.template.metadata.labels)).toBe(true);
      expect(services[0]!.spec.ports.map((p: any) => p.name)).toContain(sm.spec.endpoints[0].port);
      expect(sm.spec.endpoints[0]).toMatchObject({ path: '/metrics', interval: '15s' });
    }
  });

  it('ships the Grafana dashboard in a ConfigMap labelled for the Grafana sidecar, in the namespace the sidecar watches', () => {
    const cm = allOn.find((o) => o.kind === 'ConfigMap' && o.metadata.labels?.grafana_dashboard === '1');
    expect(cm).toBeDefined();
    expect(cm!.metadata.namespace).toBe('monitoring');
    expect(cm!.metadata.labels?.['example.com/dashboards']).toBe('sluice');
    expect(Object.keys(cm!.data!)).toEqual(['sluice-cluster.json']);
    expect(JSON.parse(cm!.data!['sluice-cluster.json']!)).toEqual(JSON.parse(readRepoFile('deploy/grafana/sluice-cluster.json')));
  });

  it('adds a PodMonitor of the broker and operator pods on their http ports (with the PodMonitor variant)', () => {
    const pm = find(allOnPodMonitor, 'PodMonitor');
    expect(pm.metadata.labels?.release).toBe('kube-prometheus-stack');
    expect(pm.spec.podMetricsEndpoints[0]).toMatchObject({ path: '/metrics', interval: '15s' });
    const selects = (labels: Record<string, string>) =>
      matches(pm.spec.selector.matchLabels, labels) && pm.spec.selector.matchExpressions.every((e: any) => e.operator === 'In' && e.values.includes(labels[e.key]));
    for (const kind of ['StatefulSet', 'Deployment'] as const) {
      const w = workload(allOnPodMonitor, kind);
      expect(selects(w.spec.template.metadata.labels), kind).toBe(true);
      expect(container(w).ports.map((p: any) => p.name)).toContain(pm.spec.podMetricsEndpoints[0].port);
    }
  });

  it('adds a PrometheusRule whose groups are exactly the rules file, Prometheus templates untouched by Helm', () => {
    const rule = find(allOn, 'PrometheusRule');
    const file = readRepoFile('deploy/prometheus/sluice-rules.yaml');
    expect(rule.spec).toEqual({ groups: parse(file).groups });
    expect(rule.metadata.labels?.release).toBe('kube-prometheus-stack');
    expect(file).toMatch(/\{\{ *\$labels\./);
    expect(JSON.stringify(rule.spec)).toContain(JSON.stringify(file.match(/\{\{[^}]*\$labels[^}]*\}\}/)![0]).slice(1, -1));
  });

  it('applies names, image, ports, storage and scheduling settings', () => {
    const sts = find(allOn, 'StatefulSet', 'prod-sluice-broker');
    const spec = sts.spec.template.spec;
    expect(sts.spec.replicas).toBe(5);
    expect(container(sts).image).toBe('registry.example.com/sluice:0.1.0-rc.1');
    expect(container(sts).imagePullPolicy).toBe('Always');
    expect(spec.imagePullSecrets).toEqual([{ name: 'registry-credentials' }]);
    expect(sts.spec.volumeClaimTemplates[0].spec).toMatchObject({ storageClassName: 'fast-ssd', accessModes: ['ReadWriteOncePod'], resources: { requests: { storage: '100Gi' } } });
    expect(spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution).toHaveLength(1);
    expect(spec.topologySpreadConstraints[0].whenUnsatisfiable).toBe('DoNotSchedule');
    expect(spec.priorityClassName).toBe('high-priority');
    expect(containerEnv(container(sts), 'prod-sluice-broker-0', NS).SLUICE_REPLICA_LAG_TIME_MAX_MS).toBe('20000');
    expect(find(allOn, 'Service', 'prod-sluice').spec.type).toBe('LoadBalancer');
    const dep = find(allOn, 'Deployment', 'prod-sluice-operator');
    expect(dep.spec.replicas).toBe(3);
    expect(dep.spec.template.spec.serviceAccountName).toBe('sluice-controller');
    expect(dep.spec.template.spec.affinity.nodeAffinity).toBeDefined();
    expect(find(allOn, 'ConfigMap').metadata.annotations).toEqual({ grafana_folder: 'Sluice' });
    expect(sts.spec.minReadySeconds).toBe(30);
    expect(container(dep).readinessProbe).toMatchObject({ initialDelaySeconds: 1, periodSeconds: 3, timeoutSeconds: 2, failureThreshold: 3 });
    expect(container(dep).livenessProbe).toMatchObject({ initialDelaySeconds: 20, periodSeconds: 15, timeoutSeconds: 4, failureThreshold: 4 });
  });
});

describe('values', () => {
  it('are checked by values.schema.json: helm refuses a bad value and names it', () => {
    expect(() => renderChart(['--set', 'broker.replicas=0'])).toThrow(/broker\.replicas: Must be greater than or equal to 1/);
    expect(() => renderChart(['--set', 'broker.podAntiAffinity=always'])).toThrow(/broker\.podAntiAffinity must be one of the following: "soft", "hard", "none"/);
    expect(() => renderChart(['--set', 'broker.persistence.size=ten'])).toThrow(/broker\.persistence\.size: Does not match pattern/);
    // A misspelt key is refused, not silently ignored.
    expect(() => renderChart(['--set', 'broker.replica=5'])).toThrow(/broker: Additional property replica is not allowed/);
  });

  it('broker.affinity replaces the anti-affinity, podAntiAffinity none drops it, preStopSleepSeconds 0 drops the hook', () => {
    const custom = find(renderChart(['--set', 'broker.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].key=disk', '--set', 'broker.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms[0].matchExpressions[0].operator=Exists']), 'StatefulSet');
    expect(Object.keys(custom.spec.template.spec.affinity)).toEqual(['nodeAffinity']);
    const none = renderChart(['--set', 'broker.podAntiAffinity=none', '--set', 'broker.preStopSleepSeconds=0']);
    const pod = find(none, 'StatefulSet').spec.template.spec;
    expect(pod.affinity).toBeUndefined();
    expect(pod.containers[0].lifecycle).toBeUndefined();
    expect(none.flatMap(validationProblems)).toEqual([]);
  });

  it('keep every name within Kubernetes limits for a long release name', () => {
    // Helm's own limit for release names is 53 characters.
    const release = 'a-release-name-of-fifty-three-characters-for-the-test';
    const objects = renderChart([], { release });
    expect(objects.flatMap(validationProblems)).toEqual([]);
    const sts = find(objects, 'StatefulSet');
    // Pod host names (<statefulset>-<ordinal>) and Service names are DNS labels.
    expect(`${sts.metadata.name}-99`.length).toBeLessThanOrEqual(63);
    for (const s of objects.filter((o) => o.kind === 'Service')) expect(s.metadata.name.length, s.metadata.name).toBeLessThanOrEqual(63);
    const { config } = brokerConfig(objects, 7);
    expect(config.id).toBe(7);
  });

  it('can leave out the RBAC and the operator ServiceAccount for clusters that manage them', () => {
    const objects = renderChart(['--set', 'operator.rbac.create=false', '--set', 'operator.serviceAccount.create=false', '--set', 'operator.serviceAccount.name=preexisting']);
    expect(objects.filter((o) => /Role/.test(o.kind))).toEqual([]);
    expect(find(objects, 'Deployment').spec.template.spec.serviceAccountName).toBe('preexisting');
    expect(objects.filter((o) => o.kind === 'ServiceAccount').map((o) => o.metadata.name)).toEqual(['sluice-broker']);
  });
});

describe('NOTES.txt', () => {
  it('tells how to reach the cluster with this release\'s names: wait, apply a Topic, the CLI in a broker pod, metrics', () => {
    for (const [args, objects] of [[[], defaults], [['-f', ALL_ON], allOn]] as const) {
      const notes = renderNotes(args, NS);
      const sts = workload(objects, 'StatefulSet').metadata.name;
      const env = containerEnv(container(workload(objects, 'StatefulSet')), `${sts}-0`, NS);
      const operatorService = `${workload(objects, 'Deployment').metadata.name}`;
      expect(notes).toContain(`kubectl -n ${NS} rollout status statefulset/${sts}`);
      expect(notes).toContain(`kubectl -n ${NS} apply -f deploy/examples/topic.yaml`);
      expect(notes).toContain(`kubectl -n ${NS} wait --for=condition=Ready topic/orders`);
      expect(notes).toContain(`kubectl -n ${NS} exec ${sts}-0 -- sluice consume orders`);
      // The address the notes give clients is the one the CLI in the pod bootstraps from.
      expect(notes).toContain(`--bootstrap-server ${env.SLUICE_BOOTSTRAP_SERVERS}`);
      find(objects, 'Service', env.SLUICE_BOOTSTRAP_SERVERS!.split('.')[0]);
      const httpPort = portNumber(container(workload(objects, 'Deployment')), 'http');
      expect(notes).toContain(`port-forward svc/${operatorService} ${httpPort}`);
      // The image actually deployed, not only the chart's appVersion.
      expect(notes).toContain(`from image ${container(workload(objects, 'StatefulSet')).image}:`);
    }
    const allOnNotes = renderNotes(['-f', ALL_ON], NS);
    expect(allOnNotes).toContain('from image registry.example.com/sluice:0.1.0-rc.1:');
    // A LoadBalancer client Service is no way in for outside clients: the notes say so.
    expect(allOnNotes).toMatch(/The client Service is a LoadBalancer, but that exposes only the bootstrap/);
    expect(renderNotes([], NS)).not.toContain('exposes only the bootstrap');
    expect(allOnNotes).toMatch(/ServiceMonitors .* are installed[\s\S]*PrometheusRule prod-sluice[\s\S]*ConfigMap prod-sluice-dashboard/);
    expect(renderNotes(['-f', ALL_ON, '-f', ALL_ON_PODMONITOR], NS)).toContain('PodMonitor prod-sluice is installed');
    // The dashboard is off by default: the notes say how to get it.
    expect(renderNotes([], NS)).toContain('import deploy/grafana/sluice-cluster.json, or set dashboard.enabled=true');
  });

  it('warns that the example Topic needs 3 brokers when there are fewer', () => {
    expect(renderNotes([], NS)).not.toContain('asks for 3 replicas');
    const notes = renderNotes(['--set', 'broker.replicas=1'], NS);
    expect(notes).toMatch(/deploy\/examples\/topic\.yaml asks for 3 replicas of each partition; with 1 broker\(s\) lower its\s+spec\.replicationFactor/);
    expect(parse(readRepoFile('deploy/examples/topic.yaml')).spec.replicationFactor).toBe(3);
  });
});
