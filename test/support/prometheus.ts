// A real Prometheus for tests, and the PromQL that Sluice ships: every expression of the Grafana
// dashboard (deploy/grafana) and of the alert rules (deploy/prometheus), with Grafana's variables
// filled in the way Grafana would.
//
// Debian's `prometheus` and `promtool` (2.42, installed by CI with apt-get) must be on the PATH;
// when they are not, requireTool throws a message saying how to install them, so the test fails
// instead of skipping. A started Prometheus listens on a free port of 127.0.0.1, keeps its TSDB in
// the directory it is given, and is SIGKILLed when this process exits, should a test not stop it.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { parse as parseYaml } from 'yaml';

export const ROOT = path.resolve(import.meta.dirname, '../..');
export const DASHBOARD_FILE = path.join(ROOT, 'deploy/grafana/sluice-cluster.json');
export const RULES_FILE = path.join(ROOT, 'deploy/prometheus/sluice-rules.yaml');
export const RULE_TESTS_FILE = path.join(ROOT, 'deploy/prometheus/sluice-rules.test.yaml');
export const METRICS_DOC = path.join(ROOT, 'docs/metrics.md');

// -- the binaries ------------------------------------------------------------------------------

/** Absolute path of a Prometheus binary on the PATH; throws saying how to install it otherwise. */
export function requireTool(name: 'prometheus' | 'promtool'): string {
  const dirs = (process.env.PATH ?? '').split(path.delimiter).filter(Boolean);
  for (const dir of [...dirs, '/usr/bin']) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error(
    `\`${name}\` is not installed (looked in PATH and /usr/bin). These tests run Debian's Prometheus 2.42: ` +
      '`sudo apt-get install prometheus` (it ships promtool), as .ci/run does in CI.',
  );
}

export interface ToolResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs promtool with `args` (and `input` on stdin), bounded by `timeoutMs`. */
export function runPromtool(args: readonly string[], options: { input?: string; cwd?: string; timeoutMs?: number } = {}): Promise<ToolResult> {
  const bin = requireTool('promtool');
  return new Promise((resolve, reject) => {
    const child = spawn(bin, [...args], { cwd: options.cwd ?? ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`promtool ${args.join(' ')} did not finish within ${options.timeoutMs ?? 30_000} ms`));
    }, options.timeoutMs ?? 30_000);
    child.once('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.on('error', () => undefined);
    child.stdin.end(options.input ?? '');
  });
}

// -- a Prometheus server ---------------------------------------------------------------------------

export interface ScrapeJob {
  job: string;
  /** host:port of each /metrics endpoint. */
  targets: readonly string[];
}

export interface PrometheusOptions {
  /** Holds the config, the TSDB and the log; the caller creates and removes it. */
  dir: string;
  jobs: readonly ScrapeJob[];
  ruleFiles?: readonly string[];
  /** Scrape and rule evaluation interval. */
  intervalSeconds?: number;
  startTimeoutMs?: number;
}

export interface QueryResult {
  status: 'success' | 'error';
  errorType?: string;
  error?: string;
  data?: { resultType: string; result: VectorSample[] | ScalarValue };
}

export interface VectorSample {
  metric: Record<string, string>;
  value: [number, string];
}

type ScalarValue = [number, string];

const runningServers = new Set<ChildProcess>();
let exitGuard = false;

export class PrometheusServer {
  readonly url: string;
  readonly logFile: string;
  readonly #child: ChildProcess;
  readonly #exited: Promise<void>;

  private constructor(url: string, logFile: string, child: ChildProcess, exited: Promise<void>) {
    this.url = url;
    this.logFile = logFile;
    this.#child = child;
    this.#exited = exited;
  }

  static async start(options: PrometheusOptions): Promise<PrometheusServer> {
    const bin = requireTool('prometheus');
    const interval = `${options.intervalSeconds ?? 1}s`;
    const configFile = path.join(options.dir, 'prometheus.yml');
    const config = {
      global: { scrape_interval: interval, scrape_timeout: interval, evaluation_interval: interval },
      rule_files: options.ruleFiles ?? [],
      scrape_configs: options.jobs.map((j) => ({ job_name: j.job, static_configs: [{ targets: j.targets }] })),
    };
    // JSON is YAML: no serializer needed for the config file.
    fs.writeFileSync(configFile, JSON.stringify(config, null, 2));
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const logFile = path.join(options.dir, 'prometheus.log');
    const log = fs.openSync(logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(bin, [
        `--config.file=${configFile}`,
        `--storage.tsdb.path=${path.join(options.dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--storage.tsdb.retention.time=1h',
      ], { stdio: ['ignore', log, log] });
    } finally {
      fs.closeSync(log);
    }
    runningServers.add(child);
    if (!exitGuard) {
      exitGuard = true;
      process.once('exit', () => {
        for (const c of runningServers) c.kill('SIGKILL');
      });
    }
    const exited = new Promise<void>((resolve) => child.once('exit', () => {
      runningServers.delete(child);
      resolve();
    }));
    const server = new PrometheusServer(url, logFile, child, exited);
    const deadline = Date.now() + (options.startTimeoutMs ?? 20_000);
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`prometheus exited before it was ready; its log (${logFile}):\n${tail(logFile)}`);
      }
      const ready = await fetch(`${url}/-/ready`).then((r) => r.ok, () => false);
      if (ready) return server;
      if (Date.now() >= deadline) {
        await server.stop();
        throw new Error(`prometheus was not ready within ${options.startTimeoutMs ?? 20_000} ms; its log (${logFile}):\n${tail(logFile)}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** An instant query. A parse error comes back as status "error" with errorType "bad_data". */
  async query(expr: string, time?: number): Promise<QueryResult> {
    const body = new URLSearchParams({ query: expr });
    if (time !== undefined) body.set('time', String(time));
    const res = await fetch(`${this.url}/api/v1/query`, { method: 'POST', body });
    return (await res.json()) as QueryResult;
  }

  /** The vector an expression returns; throws with Prometheus's message when it is not a valid query. */
  async vector(expr: string): Promise<VectorSample[]> {
    const r = await this.query(expr);
    if (r.status !== 'success') throw new Error(`${r.errorType}: ${r.error}\n  in: ${expr}`);
    if (r.data?.resultType !== 'vector') throw new Error(`expected a vector, got ${r.data?.resultType}\n  in: ${expr}`);
    return r.data.result as VectorSample[];
  }

  async get<T>(apiPath: string): Promise<T> {
    const res = await fetch(`${this.url}${apiPath}`);
    const body = (await res.json()) as { status: string; data: T; error?: string };
    if (body.status !== 'success') throw new Error(`GET ${apiPath}: ${body.error}`);
    return body.data;
  }

  logTail(lines = 30): string {
    return tail(this.logFile, lines);
  }

  /** SIGTERM, then SIGKILL if it has not exited within 10 s. */
  async stop(): Promise<void> {
    if (this.#child.exitCode !== null || this.#child.signalCode !== null) return;
    this.#child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      this.#exited.then(() => false),
      new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), 10_000))),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      this.#child.kill('SIGKILL');
      await this.#exited;
    }
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function tail(file: string, lines = 30): string {
  try {
    return fs.readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch (err) {
    return `(could not read ${file}: ${(err as Error).message})`;
  }
}

// -- the shipped PromQL ----------------------------------------------------------------------------

export interface DashboardQuery {
  /** Panel title and refId, or the variable name: where a failure points to. */
  where: string;
  kind: 'panel' | 'variable';
  /** As written in the dashboard, Grafana variables included. */
  expr: string;
}

interface GrafanaTarget {
  expr?: string;
  refId?: string;
}

interface GrafanaPanel {
  type: string;
  title?: string;
  targets?: GrafanaTarget[];
  panels?: GrafanaPanel[];
}

interface GrafanaVariable {
  name: string;
  type: string;
  query?: string | { query?: string };
  definition?: string;
}

export interface GrafanaDashboard {
  panels: GrafanaPanel[];
  templating: { list: GrafanaVariable[] };
  [key: string]: unknown;
}

export function loadDashboard(): GrafanaDashboard {
  return JSON.parse(fs.readFileSync(DASHBOARD_FILE, 'utf8')) as GrafanaDashboard;
}

/** Every panel of the dashboard, rows' nested panels included. */
export function allPanels(d: GrafanaDashboard): GrafanaPanel[] {
  return d.panels.flatMap((p) => [p, ...(p.panels ?? [])]);
}

/** Every PromQL expression of the dashboard: panel targets and query variables. */
export function dashboardQueries(d: GrafanaDashboard = loadDashboard()): DashboardQuery[] {
  const out: DashboardQuery[] = [];
  for (const p of allPanels(d)) {
    for (const t of p.targets ?? []) {
      if (t.expr !== undefined) out.push({ where: `panel "${p.title}" ${t.refId}`, kind: 'panel', expr: t.expr });
    }
  }
  for (const v of d.templating.list) {
    if (v.type !== 'query') continue;
    const q = typeof v.query === 'string' ? v.query : v.query?.query;
    if (q) out.push({ where: `variable $${v.name}`, kind: 'variable', expr: q });
  }
  return out;
}

export interface GrafanaValues {
  /**
   * What Grafana puts for $namespace / $topic / $broker: one value, a (a|b) group, or `.*` for
   * All (which also matches series without the label: `namespace=~".*"` outside Kubernetes).
   */
  namespace: string;
  topic: string;
  broker: string;
  rateInterval: string;
  interval: string;
  range: string;
}

/**
 * The expression Grafana sends for these variable values. Throws on a variable it does not know,
 * so a new one cannot slip into the dashboard untested.
 */
export function substituteGrafana(expr: string, v: GrafanaValues): string {
  const out = expr
    .replaceAll(/\$__rate_interval\b|\$\{__rate_interval\}/g, v.rateInterval)
    .replaceAll(/\$__interval\b|\$\{__interval\}/g, v.interval)
    .replaceAll(/\$__range\b|\$\{__range\}/g, v.range)
    .replaceAll(/\$namespace\b|\$\{namespace\}/g, v.namespace)
    .replaceAll(/\$topic\b|\$\{topic\}/g, v.topic)
    .replaceAll(/\$broker\b|\$\{broker\}/g, v.broker);
  const left = out.match(/\$\{?\w+\}?/);
  if (left) throw new Error(`unknown Grafana variable ${left[0]} in: ${expr}`);
  return out;
}

/**
 * Grafana's `label_values(selector, label)` is not PromQL: Grafana asks Prometheus for the values
 * of `label` on the series `selector` matches. Returns both, to query the selector directly.
 */
export function labelValuesQuery(expr: string): { selector: string; label: string } | null {
  const m = /^\s*label_values\(\s*(.+)\s*,\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*\)\s*$/.exec(expr);
  return m ? { selector: m[1]!.trim(), label: m[2]! } : null;
}

export interface AlertRule {
  alert: string;
  expr: string;
  for?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
}

export function loadAlertRules(): AlertRule[] {
  const doc = parseYaml(fs.readFileSync(RULES_FILE, 'utf8')) as { groups: { name: string; rules: AlertRule[] }[] };
  return doc.groups.flatMap((g) => g.rules);
}

/**
 * The rule's expression with its conditions turned into values, to show that the metrics behind
 * an alert exist even while it (rightly) does not fire: every comparison against a number becomes
 * a `bool` comparison (`x > 0` -> `x > bool 0`: 0 or 1 for each series instead of dropping the
 * false ones), and `absent(x)` becomes `x`. The result returns series exactly when the data the
 * condition is computed from exists.
 */
export function seriesProof(expr: string): string {
  let out = expr.replaceAll(/(==|!=|>=|<=|>|<)(?!\s*bool\b)\s*(?=-?\d)/g, '$1 bool ');
  for (let i = out.indexOf('absent('); i >= 0; i = out.indexOf('absent(')) {
    const open = i + 'absent'.length;
    let depth = 0;
    let close = open;
    for (; close < out.length; close++) {
      if (out[close] === '(') depth++;
      else if (out[close] === ')' && --depth === 0) break;
    }
    out = `${out.slice(0, i)}${out.slice(open, close + 1)}${out.slice(close + 1)}`;
  }
  return out;
}

// -- the metric contract ---------------------------------------------------------------------------

export interface DocumentedMetric {
  name: string;
  type: string;
  labels: string[];
  /** The docs/metrics.md section: Broker, Controller (...), Operator only. */
  section: string;
}

/** The tables of docs/metrics.md. */
export function documentedMetrics(): Map<string, DocumentedMetric> {
  const out = new Map<string, DocumentedMetric>();
  let section = '';
  for (const line of fs.readFileSync(METRICS_DOC, 'utf8').split('\n')) {
    const heading = /^##\s+(.*)$/.exec(line);
    if (heading) section = heading[1]!.trim();
    const row = /^\|\s*`([a-z_:][a-z0-9_:]*)`\s*\|\s*([a-z]+)\s*\|([^|]*)\|/.exec(line);
    if (!row) continue;
    // "state (`active`, ...)" names the label `state`; values in parentheses are not labels.
    const labels = row[3]!.replace(/\([^)]*\)/g, '').split(',').map((l) => l.trim()).filter(Boolean);
    out.set(row[1]!, { name: row[1]!, type: row[2]!, labels, section });
  }
  return out;
}

export interface Selector {
  /** As written, e.g. `sluice_bytes_in_total{topic=~"$topic"}`. */
  text: string;
  metric: string;
  /** label -> `op"value"`, e.g. topic -> `=~"$topic"`. */
  matchers: Map<string, string>;
}

/** Every `sluice_*` series selector in an expression, with its label matchers. */
export function sluiceSelectors(expr: string): Selector[] {
  const out: Selector[] = [];
  for (const m of expr.matchAll(/\b(sluice_[a-z0-9_]+)(\{([^}]*)\})?/g)) {
    const matchers = new Map<string, string>();
    for (const lm of (m[3] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*")/g)) matchers.set(lm[1]!, `${lm[2]}${lm[3]}`);
    out.push({ text: m[0], metric: m[1]!, matchers });
  }
  return out;
}

/** A histogram's `_bucket`/`_count`/`_sum` series belong to the histogram's documented name. */
export function baseMetricName(series: string, documented: Map<string, DocumentedMetric>): string {
  if (documented.has(series)) return series;
  const m = /^(.*)_(bucket|count|sum)$/.exec(series);
  if (m && documented.get(m[1]!)?.type === 'histogram') return m[1]!;
  return series;
}
