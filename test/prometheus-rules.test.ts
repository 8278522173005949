// The alert rules (deploy/prometheus/sluice-rules.yaml) as Prometheus sees them: promtool parses
// them and runs their unit tests (deploy/prometheus/sluice-rules.test.yaml), which must show every
// alert firing, with its exact labels and annotations, and not firing. Every alert carries what
// the person paged needs (severity, summary, description, a runbook line) and reads only metrics
// and labels that docs/metrics.md promises.
import * as fs from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  RULES_FILE,
  RULE_TESTS_FILE,
  baseMetricName,
  documentedMetrics,
  loadAlertRules,
  runPromtool,
  sluiceSelectors,
} from './support/prometheus.ts';

/** What issue 5 asks the rules to catch. */
const REQUIRED_ALERTS = [
  'SluiceUnderReplicatedPartitions',
  'SluiceUnderMinIsrPartitions',
  'SluiceOfflinePartitions',
  'SluiceNoActiveController',
  'SluiceSeveralActiveControllers',
  'SluiceHighWatermarkLagGrowing',
  'SluiceUncleanLeaderElection',
  'SluiceLogDirNearlyFull',
];

/** Labels Prometheus or Kubernetes service discovery add to every scraped series. */
const TARGET_LABELS = ['instance', 'job', 'namespace', 'pod'];

const rules = loadAlertRules();

describe('promtool', () => {
  it('check rules accepts the rule file', async () => {
    const r = await runPromtool(['check', 'rules', RULES_FILE]);
    expect(r.code, `promtool check rules:\n${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('runs the unit tests of every alert and they pass', async () => {
    const r = await runPromtool(['test', 'rules', RULE_TESTS_FILE]);
    expect(r.code, `promtool test rules:\n${r.stdout}${r.stderr}`).toBe(0);
    expect(r.stdout).toContain('SUCCESS');
  });
});

describe('the unit tests', () => {
  interface RuleTest {
    alertname: string;
    eval_time: string;
    exp_alerts?: { exp_labels?: Record<string, string>; exp_annotations?: Record<string, string> }[];
  }
  const doc = parseYaml(fs.readFileSync(RULE_TESTS_FILE, 'utf8')) as { tests: { name: string; alert_rule_test?: RuleTest[] }[] };
  const cases = doc.tests.flatMap((t) => t.alert_rule_test ?? []);

  it.each(rules.map((r) => r.alert))('show %s firing with its exact annotations, and not firing', (alert) => {
    const firing = cases.filter((c) => c.alertname === alert && (c.exp_alerts?.length ?? 0) > 0);
    const silent = cases.filter((c) => c.alertname === alert && (c.exp_alerts?.length ?? 0) === 0);
    expect(firing.length, `unit tests in which ${alert} fires`).toBeGreaterThan(0);
    expect(silent.length, `unit tests in which ${alert} does not fire`).toBeGreaterThan(0);
    // promtool compares the full annotation set: all four must be spelled out in a firing case.
    const rule = rules.find((r) => r.alert === alert)!;
    for (const c of firing) {
      for (const a of c.exp_alerts!) {
        expect(Object.keys(a.exp_annotations ?? {}).sort(), `annotations expected at ${c.eval_time}`).toEqual(Object.keys(rule.annotations ?? {}).sort());
        expect(a.exp_labels?.severity, `severity expected at ${c.eval_time}`).toBe(rule.labels?.severity);
      }
    }
  });
});

describe('each alert', () => {
  it('that issue 5 asks for exists', () => {
    expect(rules.map((r) => r.alert)).toEqual(expect.arrayContaining(REQUIRED_ALERTS));
  });

  it.each(rules.map((r) => [r.alert, r] as const))('%s has a severity, a summary, a description and a one-line runbook', (_name, rule) => {
    expect(['critical', 'warning']).toContain(rule.labels?.severity);
    for (const key of ['summary', 'description', 'runbook']) {
      expect(rule.annotations?.[key]?.trim(), `annotation ${key}`).toBeTruthy();
    }
    expect(rule.annotations!.runbook).not.toContain('\n');
  });

  it.each(rules.map((r) => [r.alert, r] as const))('%s reads only documented metrics and labels, and no job name', (_name, rule) => {
    const documented = documentedMetrics();
    const selectors = sluiceSelectors(rule.expr);
    expect(selectors.length, 'sluice metrics read').toBeGreaterThan(0);
    for (const s of selectors) {
      const m = documented.get(baseMetricName(s.metric, documented));
      expect(m, `${s.metric} in docs/metrics.md`).toBeDefined();
      const known = [...m!.labels, ...TARGET_LABELS, ...(m!.section === 'Broker' ? ['broker'] : []), ...(m!.type === 'histogram' ? ['le'] : [])];
      for (const label of s.matchers.keys()) expect(known, `label ${label} of ${s.metric}`).toContain(label);
    }
    expect(rule.expr).not.toMatch(/\bjob\s*(=|!=|=~|!~)/);
  });
});
