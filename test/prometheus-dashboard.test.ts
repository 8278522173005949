// The Grafana dashboard (deploy/grafana/sluice-cluster.json): importable as it is (through the UI
// and by the sidecar: no fixed data source, no __inputs), with a Prometheus data source variable,
// a namespace filter that every query applies (two releases scraped by one Prometheus are shown
// apart) and topic and broker filters that every panel applies where its metric has the label; it shows
// what issue 5 lists; and every PromQL expression in it, with Grafana's variables filled in as
// Grafana would, is accepted by a real Prometheus (promtool has no parse command in 2.42; the
// query API answers a parse error with errorType bad_data). That each expression also returns
// series from a live cluster is shown by prometheus-cluster.test.ts.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  PrometheusServer,
  allPanels,
  baseMetricName,
  dashboardQueries,
  documentedMetrics,
  labelValuesQuery,
  loadDashboard,
  sluiceSelectors,
  substituteGrafana,
  type GrafanaValues,
} from './support/prometheus.ts';

const dashboard = loadDashboard();
const queries = dashboardQueries(dashboard);
const panelQueries = queries.filter((q) => q.kind === 'panel');
const documented = documentedMetrics();
const DATASOURCE = { type: 'prometheus', uid: '${datasource}' };

describe('the dashboard', () => {
  it('can be imported into any Grafana: a uid, no id, no fixed data source, schema 39', () => {
    expect(dashboard.uid).toBe('sluice-cluster');
    expect(dashboard.id).toBeNull();
    expect(dashboard.schemaVersion).toBe(39);
    expect(dashboard).not.toHaveProperty('__inputs');
    // Every data source reference is the variable (or Grafana's own, for the built-in annotations).
    const refs: unknown[] = [];
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) node.forEach(walk);
      else if (node && typeof node === 'object') {
        for (const [key, value] of Object.entries(node)) {
          if (key === 'datasource') refs.push(value);
          walk(value);
        }
      }
    };
    walk(dashboard);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of refs) expect([DATASOURCE, { type: 'grafana', uid: '-- Grafana --' }]).toContainEqual(ref);
  });

  it('has a Prometheus data source variable and namespace, topic and broker variables read through it', () => {
    const vars = new Map(dashboard.templating.list.map((v) => [v.name, v as unknown as Record<string, unknown>]));
    expect(vars.get('datasource')).toMatchObject({ type: 'datasource', query: 'prometheus' });
    expect(dashboard.templating.list.map((v) => v.name)).toEqual(['datasource', 'namespace', 'topic', 'broker']);
    for (const [name, label] of [['namespace', 'namespace'], ['topic', 'topic'], ['broker', 'broker']] as const) {
      const v = vars.get(name);
      // All is `.*`, not Grafana's default of every value joined: `.*` also matches series
      // without the label (outside Kubernetes there is no namespace).
      expect(v, `variable ${name}`).toMatchObject({ type: 'query', datasource: DATASOURCE, includeAll: true, multi: true, allValue: '.*' });
      const q = labelValuesQuery(((v!.query as { query: string }).query));
      expect(q?.label, `label_values query of $${name}`).toBe(label);
      const [selector] = sluiceSelectors(q!.selector);
      expect(documented.get(selector!.metric)?.labels ?? [], `${q!.selector} carries ${label}`).toSatisfy((labels: string[]) => label === 'broker' || label === 'namespace' || labels.includes(label));
      // The topics and brokers offered are those of the namespaces selected.
      expect(selector!.matchers.get('namespace'), `$${name} within $namespace`).toBe(name === 'namespace' ? undefined : '=~"$namespace"');
    }
  });

  it('reads every panel and every query from the data source variable', () => {
    const ids = new Set<number>();
    for (const p of allPanels(dashboard) as unknown as Record<string, unknown>[]) {
      expect(ids.has(p.id as number), `panel id ${p.id} unique`).toBe(false);
      ids.add(p.id as number);
      if (p.type === 'row') continue;
      expect(p.datasource, `data source of panel "${p.title}"`).toEqual(DATASOURCE);
      const targets = p.targets as Record<string, unknown>[];
      expect(targets.length, `queries of panel "${p.title}"`).toBeGreaterThan(0);
      for (const t of targets) expect(t.datasource, `data source of "${p.title}" ${t.refId}`).toEqual(DATASOURCE);
    }
  });

  // What issue 5 lists, each as the metric a panel must read.
  it.each([
    ['brokers online', /\bsluice_brokers\{[^}]*state="active"\}/],
    ['the active controller', /\bsluice_controller_active\b/],
    ['offline partitions', /\bsluice_offline_partitions\b/],
    ['under-replicated partitions', /\bsluice_partition_under_replicated\b/],
    ['under-min-ISR partitions', /\bsluice_partition_under_min_isr\b/],
    ['ISR size per partition', /max by \(topic, partition\) \(sluice_partition_isr_size\b/],
    ['HW lag per partition', /max by \(topic, partition\) \(sluice_partition_hw_lag_messages\b/],
    ['replica lag per partition', /max by \(topic, partition, replica\) \(sluice_replica_lag_messages\b/],
    ['elections by reason', /sum by \(reason\) \(increase\(sluice_leader_elections_total\{[^}]*unclean="false"\}/],
    ['unclean elections', /sluice_leader_elections_total\{[^}]*unclean="true"\}/],
    ['bytes in', /rate\(sluice_bytes_in_total\b/],
    ['bytes out', /rate\(sluice_bytes_out_total\b/],
    ['messages in', /rate\(sluice_messages_in_total\b/],
    ['messages out', /rate\(sluice_messages_out_total\b/],
    ['produce latency p50', /histogram_quantile\(0\.5, .*sluice_request_duration_seconds_bucket\{[^}]*method=~"[^"]*\bProduce\b/],
    ['produce latency p99', /histogram_quantile\(0\.99, .*sluice_request_duration_seconds_bucket\{[^}]*method=~"[^"]*\bProduce\b/],
    ['fetch latency p50', /histogram_quantile\(0\.5, .*sluice_request_duration_seconds_bucket\{[^}]*method=~"[^"]*\bFetch\b/],
    ['fetch latency p99', /histogram_quantile\(0\.99, .*sluice_request_duration_seconds_bucket\{[^}]*method=~"[^"]*\bFetch\b/],
    ['log size', /\bsluice_log_size_bytes\b/],
    ['disk free', /sluice_log_dir_free_bytes\b.*\/ sluice_log_dir_total_bytes\b/],
  ])('shows %s', (_what, pattern) => {
    expect(panelQueries.map((q) => q.expr).filter((e) => pattern.test(e)), String(pattern)).not.toEqual([]);
  });

  it('counts unclean elections over the dashboard\'s time range, not since the controllers started', () => {
    const stat = allPanels(dashboard).find((p) => p.type === 'stat' && p.title === 'Unclean elections')! as unknown as { targets: { expr: string; instant?: boolean; range?: boolean }[] };
    expect(stat.targets).toHaveLength(1);
    expect(stat.targets[0]!.expr).toMatch(/^round\(sum\(increase\(sluice_leader_elections_total\{[^}]*unclean="true"[^}]*\}\[\$__range\]\)\)\)$/);
    // One value for the whole range, at its end.
    expect(stat.targets[0]).toMatchObject({ instant: true, range: false });
  });

  it('highlights unclean elections in red', () => {
    const panel = allPanels(dashboard).find((p) => p.type === 'timeseries' && p.targets?.some((t) => t.expr?.includes('unclean="true"')))! as unknown as {
      targets: { refId: string; expr: string }[];
      fieldConfig: { overrides: { matcher: { id: string; options: string }; properties: { id: string; value: { fixedColor?: string } }[] }[] };
    };
    const refId = panel.targets.find((t) => t.expr.includes('unclean="true"'))!.refId;
    const override = panel.fieldConfig.overrides.find((o) => o.matcher.id === 'byFrameRefID' && o.matcher.options === refId);
    expect(override?.properties).toContainEqual({ id: 'color', value: { mode: 'fixed', fixedColor: 'red' } });
  });

  it.each(panelQueries.map((q) => [q.where, q.expr] as const))('%s reads documented metrics and applies the namespace filter, and the topic and broker filters where they apply', (_where, expr) => {
    const selectors = sluiceSelectors(expr);
    expect(selectors.length).toBeGreaterThan(0);
    for (const s of selectors) {
      const m = documented.get(baseMetricName(s.metric, documented));
      expect(m, `${s.metric} in docs/metrics.md`).toBeDefined();
      // Every selector, the `and on (instance) (sluice_controller_active == 1)` ones included:
      // two Sluice releases in one Prometheus must not mix.
      expect(s.matchers.get('namespace'), `${s.text}: namespace filter`).toBe('=~"$namespace"');
      if (m!.labels.includes('topic')) expect(s.matchers.get('topic'), `${s.text}: topic filter`).toBe('=~"$topic"');
      if (m!.section === 'Broker') {
        // A follower's lag is filtered by the follower (replica), everything else by the reporting broker.
        const filter = s.matchers.get('broker') ?? s.matchers.get('replica');
        expect(filter, `${s.text}: broker filter`).toBe('=~"$broker"');
      }
      for (const label of s.matchers.keys()) {
        expect([...m!.labels, 'broker', 'le', 'namespace'], `label ${label} of ${s.metric}`).toContain(label);
      }
    }
    expect(expr).not.toMatch(/\bjob\s*(=|!=|=~|!~)/);
  });

  it('reads controller state from the active controller only: a standby reports empty state', () => {
    const stateful = panelQueries.filter((q) => /\bsluice_(offline_partitions|brokers)\b/.test(q.expr));
    expect(stateful.length).toBeGreaterThan(0);
    for (const q of stateful) expect(q.expr, q.where).toContain('and on (instance) (sluice_controller_active{namespace=~"$namespace"} == 1)');
  });
});

describe('every expression of the dashboard', () => {
  let dir: string;
  let prometheus: PrometheusServer | undefined;

  beforeAll(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-prom-parse-'));
    prometheus = await PrometheusServer.start({ dir, jobs: [] });
  }, 30_000);

  afterAll(async () => {
    await prometheus?.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }, 20_000);

  it('is checked by a Prometheus that rejects a malformed query', async () => {
    const r = await prometheus!.query('sum(rate(sluice_bytes_in_total[1m])');
    expect(r).toMatchObject({ status: 'error', errorType: 'bad_data' });
  });

  // "All" selected, and a multi-value selection as Grafana formats it for a regex matcher: values
  // joined into a group, regex metacharacters escaped with a backslash that is itself escaped for
  // the PromQL string (topic names may contain dots).
  const selections: [string, GrafanaValues][] = [
    ['All selected', { namespace: '.*', topic: '.*', broker: '.*', rateInterval: '1m', interval: '15s', range: '1h' }],
    ['two namespaces, two topics and two brokers selected', { namespace: '(sluice|streaming)', topic: '(orders|payments\\\\.eu)', broker: '(0|2)', rateInterval: '2m', interval: '30s', range: '6h' }],
  ];
  it.each(queries.flatMap((q) => selections.map(([how, values]) => [q.where, how, q.expr, values] as const)))('%s parses (%s)', async (_where, _how, expr, values) => {
    const lv = labelValuesQuery(expr);
    const promql = substituteGrafana(lv ? lv.selector : expr, values);
    const r = await prometheus!.query(promql);
    expect(r.error ?? '', promql).toBe('');
    expect(r.status).toBe('success');
  });
});
