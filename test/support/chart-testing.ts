// Test support for test/chart-*.test.ts: render the chart with the real helm binary, and check
// rendered objects against the Kubernetes API schemas. (charts/chart-files.ts, which
// `npm run chart:sync` uses too, holds the helm runner and what sync writes.)
//
// Two checks per object, because each misses what the other catches:
//   * kubernetes-models / @kubernetes-models/prometheus-operator validate(): the OpenAPI schemas
//     of the API server (types, required fields, enums, formats) — but unknown fields pass;
//   * unknownFields(): every field name against the attribute maps of @kubernetes/client-node's
//     generated models, as the API server's strict field validation (kubectl's default) would:
//     a misspelt `seccompProfle` is refused there, and would silently do nothing under Helm.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { PodMonitor, PrometheusRule, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { ConfigMap, Namespace, Service, ServiceAccount } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { CHART_DIR, KUBE_VERSION, ROOT, helm } from '../../charts/chart-files.ts';

export interface K8sObject {
  apiVersion: string;
  kind: string;
  metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
  // Rendered manifests are untyped; tests read what they assert.
  spec?: any;
  data?: Record<string, string>;
  rules?: any[];
  roleRef?: any;
  subjects?: any[];
  [k: string]: unknown;
}

/** Renders the chart (`helm template`) with extra helm arguments (`-f`, `--set`); throws helm's error. */
export function renderChart(args: readonly string[] = [], opts: { release?: string; namespace?: string } = {}): K8sObject[] {
  const out = helm(['template', opts.release ?? 'sluice', CHART_DIR, '--namespace', opts.namespace ?? 'streaming', '--include-crds', '--kube-version', KUBE_VERSION, ...args]);
  return parseManifests(out);
}

export function parseManifests(text: string): K8sObject[] {
  return parseAllDocuments(text)
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`rendered YAML does not parse: ${d.errors[0]!.message}`);
      return d.toJS() as K8sObject | null;
    })
    .filter((o): o is K8sObject => o !== null);
}

/** Renders with a values file written to a temporary directory (deleted afterwards). */
export function renderWithValues(values: string, extra: readonly string[] = []): K8sObject[] {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-chart-'));
  try {
    const file = path.join(dir, 'values.yaml');
    fs.writeFileSync(file, values);
    return renderChart(['-f', file, ...extra]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

export function find(objects: readonly K8sObject[], kind: string, name?: string): K8sObject {
  const hits = objects.filter((o) => o.kind === kind && (name === undefined || o.metadata.name === name));
  if (hits.length !== 1) throw new Error(`expected one ${kind}${name ? ` ${name}` : ''}, found ${hits.length}: ${objects.map((o) => `${o.kind}/${o.metadata.name}`).join(', ')}`);
  return hits[0]!;
}

type Model = new (data: any) => { validate(): void };
const MODELS: Record<string, { model: Model; clientType?: string }> = {
  'v1/Namespace': { model: Namespace, clientType: 'V1Namespace' },
  'v1/Service': { model: Service, clientType: 'V1Service' },
  'v1/ServiceAccount': { model: ServiceAccount, clientType: 'V1ServiceAccount' },
  'v1/ConfigMap': { model: ConfigMap, clientType: 'V1ConfigMap' },
  'apps/v1/Deployment': { model: Deployment, clientType: 'V1Deployment' },
  'apps/v1/StatefulSet': { model: StatefulSet, clientType: 'V1StatefulSet' },
  'policy/v1/PodDisruptionBudget': { model: PodDisruptionBudget, clientType: 'V1PodDisruptionBudget' },
  'rbac.authorization.k8s.io/v1/Role': { model: Role, clientType: 'V1Role' },
  'rbac.authorization.k8s.io/v1/RoleBinding': { model: RoleBinding, clientType: 'V1RoleBinding' },
  'rbac.authorization.k8s.io/v1/ClusterRole': { model: ClusterRole, clientType: 'V1ClusterRole' },
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': { model: ClusterRoleBinding, clientType: 'V1ClusterRoleBinding' },
  'apiextensions.k8s.io/v1/CustomResourceDefinition': { model: CustomResourceDefinition, clientType: 'V1CustomResourceDefinition' },
  // No client-node model: schema validation only.
  'monitoring.coreos.com/v1/ServiceMonitor': { model: ServiceMonitor },
  'monitoring.coreos.com/v1/PodMonitor': { model: PodMonitor },
  'monitoring.coreos.com/v1/PrometheusRule': { model: PrometheusRule },
};

/** Problems of one object: schema violations and unknown fields; empty when it is valid. */
export function validationProblems(o: K8sObject): string[] {
  const id = `${o.kind}/${o.metadata?.name}`;
  const entry = MODELS[`${o.apiVersion}/${o.kind}`];
  if (!entry) return [`${id}: no schema known for ${o.apiVersion} ${o.kind}`];
  const problems: string[] = [];
  try {
    new entry.model(o).validate();
  } catch (e) {
    problems.push(`${id}: ${(e as Error).message}`);
  }
  if (entry.clientType) problems.push(...unknownFields(o, entry.clientType).map((p) => `${id}: unknown field ${p}`));
  return problems;
}

interface Attribute {
  baseName: string;
  type: string;
}
type ModelClass = { getAttributeTypeMap(): Attribute[] };
const clientModels = k8s as unknown as Record<string, ModelClass | undefined>;

/** JSON paths of fields the client-node model of `type` does not know, recursively. */
export function unknownFields(value: unknown, type: string, at = ''): string[] {
  if (value === null || value === undefined) return [];
  const list = /^Array<(.+)>$/.exec(type);
  if (list) return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, list[1]!, `${at}[${i}]`)) : [];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => unknownFields(v, map[1]!, `${at}.${k}`));
  const model = clientModels[type];
  if (typeof model?.getAttributeTypeMap !== 'function' || typeof value !== 'object') return [];
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => {
    const t = attributes.get(k);
    return t === undefined ? [`${at}.${k}`] : unknownFields(v, t, `${at}.${k}`);
  });
}

/** Every pod template of the rendered workloads, with the workload's name. */
export function podTemplates(objects: readonly K8sObject[]): { owner: string; spec: any; metadata: any }[] {
  return objects.filter((o) => o.kind === 'Deployment' || o.kind === 'StatefulSet').map((o) => ({ owner: `${o.kind}/${o.metadata.name}`, spec: o.spec.template.spec, metadata: o.spec.template.metadata }));
}

const RESTRICTED_VOLUME_TYPES = new Set(['configMap', 'csi', 'downwardAPI', 'emptyDir', 'ephemeral', 'persistentVolumeClaim', 'projected', 'secret']);

/**
 * Violations of the Pod Security Standards' restricted profile (and its baseline) by one pod
 * spec, as the admission controller checks them: https://kubernetes.io/docs/concepts/security/pod-security-standards/
 */
export function restrictedViolations(spec: any): string[] {
  const v: string[] = [];
  const pod = spec.securityContext ?? {};
  for (const f of ['hostNetwork', 'hostPID', 'hostIPC']) if (spec[f]) v.push(`${f} is set`);
  for (const vol of spec.volumes ?? []) {
    const types = Object.keys(vol).filter((k) => k !== 'name');
    for (const t of types) if (!RESTRICTED_VOLUME_TYPES.has(t)) v.push(`volume ${vol.name} has type ${t}`);
  }
  const seccompOk = (sc: any) => sc?.seccompProfile?.type === 'RuntimeDefault' || sc?.seccompProfile?.type === 'Localhost';
  if (pod.runAsUser === 0) v.push('pod runAsUser is 0');
  for (const c of [...(spec.initContainers ?? []), ...(spec.containers ?? [])]) {
    const sc = c.securityContext ?? {};
    const name = `container ${c.name}`;
    if (sc.privileged) v.push(`${name} is privileged`);
    if (sc.allowPrivilegeEscalation !== false) v.push(`${name} does not set allowPrivilegeEscalation: false`);
    if ((sc.runAsNonRoot ?? pod.runAsNonRoot) !== true) v.push(`${name} may run as root (runAsNonRoot not true)`);
    if ((sc.runAsUser ?? pod.runAsUser) === 0) v.push(`${name} runs as user 0`);
    if (!seccompOk(sc) && !(sc.seccompProfile === undefined && seccompOk(pod))) v.push(`${name} has no RuntimeDefault/Localhost seccomp profile`);
    if (!(sc.capabilities?.drop ?? []).includes('ALL')) v.push(`${name} does not drop ALL capabilities`);
    for (const cap of sc.capabilities?.add ?? []) if (cap !== 'NET_BIND_SERVICE') v.push(`${name} adds capability ${cap}`);
    for (const p of c.ports ?? []) if (p.hostPort) v.push(`${name} uses hostPort ${p.hostPort}`);
  }
  return v;
}

/**
 * A container's environment as the kubelet builds it for a pod named `podName` in `namespace`:
 * downward-API fields filled in, `$(VAR)` replaced by variables defined before it ($$ escapes).
 */
export function containerEnv(container: any, podName: string, namespace: string): Record<string, string> {
  const env: Record<string, string> = {};
  const fields: Record<string, string> = { 'metadata.name': podName, 'metadata.namespace': namespace };
  for (const e of container.env ?? []) {
    if (e.valueFrom) {
      const field = e.valueFrom.fieldRef?.fieldPath as string | undefined;
      if (field === undefined || fields[field] === undefined) throw new Error(`env ${e.name}: unsupported valueFrom ${JSON.stringify(e.valueFrom)}`);
      env[e.name] = fields[field];
    } else {
      env[e.name] = String(e.value ?? '').replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, name: string | undefined) => (m === '$$' ? '$' : (env[name!] ?? m)));
    }
  }
  return env;
}

/** Runs `fn` with `env` added to process.env (commander reads option fallbacks from there), then restores it. */
export function withProcessEnv<T>(env: Record<string, string>, fn: () => T): T {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    return fn();
  } finally {
    for (const k of Object.keys(env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
  }
}

/**
 * NOTES.txt as `helm install` would print it. `helm template` leaves NOTES out, so a copy of the
 * chart (in a temporary directory, deleted afterwards) renders it through `tpl` into a ConfigMap.
 */
export function renderNotes(args: readonly string[] = [], namespace = 'streaming'): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-notes-'));
  try {
    const chart = path.join(dir, 'sluice');
    fs.cpSync(path.join(ROOT, CHART_DIR), chart, { recursive: true });
    fs.renameSync(path.join(chart, 'templates/NOTES.txt'), path.join(chart, 'files/NOTES.txt'));
    fs.writeFileSync(
      path.join(chart, 'templates/zz-notes.yaml'),
      'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: notes\ndata:\n  notes: {{ tpl (.Files.Get "files/NOTES.txt") . | toJson }}\n',
    );
    const out = helm(['template', 'sluice', chart, '--namespace', namespace, '--kube-version', KUBE_VERSION, '--show-only', 'templates/zz-notes.yaml', ...args]);
    return (parseManifests(out)[0]!.data as Record<string, string>).notes!;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}
