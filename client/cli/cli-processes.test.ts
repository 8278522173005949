// The CLI as a user runs it: `sluice` processes against a controller and brokers in their own
// processes (EmbeddedCluster, port 0, a temp dir).
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaPartitionForKey } from '../partitioner.ts';
import { EmbeddedCluster } from './embedded-cluster.ts';

const CLI = fileURLToPath(new URL('./main.ts', import.meta.url));
const BAD_TOPIC_YAML = fileURLToPath(new URL('./test-fixtures/bad-topic.yaml', import.meta.url));
const PARTITIONS = 4;
const RECORDS = 1_000;

let dataDir: string;
let cluster: EmbeddedCluster | undefined;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One `sluice` process, bounded in time: a hung command fails the test instead of the run. */
function sluice(argv: string[], options: { stdin?: string; timeoutMs?: number } = {}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...argv, '--bootstrap-server', cluster!.bootstrapServers], {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, SLUICE_LOG_LEVEL: 'warn' },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => { stdout += c.toString(); });
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString(); });
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`sluice ${argv.join(' ')} did not finish within ${options.timeoutMs ?? 30_000} ms; stderr: ${stderr}`));
    }, options.timeoutMs ?? 30_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(options.stdin ?? '');
  });
}

beforeAll(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-cli-'));
  cluster = await EmbeddedCluster.start({ dataDir, brokers: 2, readyTimeoutMs: 20_000, stopTimeoutMs: 5_000 });
}, 30_000);

afterAll(async () => {
  await cluster?.stop();
  fs.rmSync(dataDir, { recursive: true, force: true });
}, 30_000);

describe('sluice against a running cluster', () => {
  it('creates a topic, produces keyed lines from a file, and consumes them back in order on Kafka\'s partitions', async () => {
    const created = await sluice(['topic', 'create', 'orders', '--partitions', String(PARTITIONS), '--replication-factor', '1']);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    expect(created.stdout).toContain('Created topic "orders" with 4 partitions and replication factor 1.');

    const lines = Array.from({ length: RECORDS }, (_, i) => `key-${i % 37}:value-${i}`);
    const file = path.join(dataDir, 'records.txt');
    fs.writeFileSync(file, `${lines.join('\n')}\n`);
    const produced = await sluice(['produce', 'orders', '--file', file, '--key-separator', ':', '--output', 'json'], { timeoutMs: 60_000 });
    expect(produced.code, produced.stderr).toBe(0);
    const summary = JSON.parse(produced.stdout) as { records: number; acked: number; failed: number; partitions: Record<string, number> };
    expect(summary).toMatchObject({ records: RECORDS, acked: RECORDS, failed: 0 });
    expect(Object.values(summary.partitions).reduce((a, b) => a + b, 0)).toBe(RECORDS);

    const consumed = await sluice(['consume', 'orders', '--from-beginning', '--output', 'json', '--timeout-ms', '20000'], { timeoutMs: 60_000 });
    expect(consumed.code, consumed.stderr).toBe(0);
    const records = consumed.stdout.trim().split('\n').map((l) => JSON.parse(l) as { partition: number; offset: number; key: string; value: string });
    expect(records).toHaveLength(RECORDS);
    expect(new Set(records.map((r) => r.value))).toEqual(new Set(lines.map((l) => l.slice(l.indexOf(':') + 1))));

    const byPartition = new Map<number, typeof records>();
    for (const r of records) {
      expect(r.partition, `key ${r.key}`).toBe(kafkaPartitionForKey(Buffer.from(r.key), PARTITIONS));
      byPartition.set(r.partition, [...(byPartition.get(r.partition) ?? []), r]);
    }
    for (const [partition, list] of byPartition) {
      // Dense offsets from 0, and the order the lines had in the file.
      expect(list.map((r) => r.offset), `partition ${partition}`).toEqual(list.map((_, i) => i));
      const sequence = list.map((r) => Number(r.value.slice('value-'.length)));
      expect(sequence, `partition ${partition}`).toEqual([...sequence].sort((a, b) => a - b));
      expect(summary.partitions[String(partition)]).toBe(list.length);
    }

    const described = await sluice(['cluster', 'describe', '--output', 'json']);
    expect(described.code, described.stderr).toBe(0);
    const view = JSON.parse(described.stdout) as {
      brokers: { id: number; state: string }[];
      partitions: { topic: string; partition: number; highWatermark: number; logEndOffset: number; isr: number[] }[];
    };
    expect(view.brokers.map((b) => b.id).sort()).toEqual([0, 1]);
    const orders = view.partitions.filter((p) => p.topic === 'orders');
    expect(orders.map((p) => p.highWatermark).reduce((a, b) => a + b, 0)).toBe(RECORDS);
    for (const p of orders) expect(p.logEndOffset).toBe(byPartition.get(p.partition)?.length ?? 0);
  }, 120_000);

  it('fails with exit 1 and UNKNOWN_TOPIC_OR_PARTITION for a topic that does not exist', async () => {
    for (const argv of [['produce', 'no-such-topic'], ['consume', 'no-such-topic', '--from-beginning'], ['topic', 'describe', 'no-such-topic']]) {
      const r = await sluice(argv, { stdin: 'hello\n' });
      expect(r.code, argv.join(' ')).toBe(1);
      expect(r.stderr, argv.join(' ')).toMatch(/^error \[UNKNOWN_TOPIC_OR_PARTITION\]: .*no-such-topic/m);
      expect(r.stderr, argv.join(' ')).toContain('hint: check the topic name and its partition count with `sluice topic list`');
    }
  }, 60_000);

  it('refuses a bad Topic file with exit 1 naming file and key, and creates nothing', async () => {
    const bad = await sluice(['apply', '-f', BAD_TOPIC_YAML]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`error [INVALID_CONFIG]: invalid Topic manifest:\n  ${BAD_TOPIC_YAML}: spec.config has unknown key "retention.msec"`);
    const list = await sluice(['topic', 'list', '--output', 'json']);
    expect((JSON.parse(list.stdout) as { name: string }[]).map((t) => t.name)).not.toContain('orders-from-yaml');
  }, 60_000);

  it('applies Topic YAML from stdin: creates, grows, leaves unchanged, and refuses a shrink', async () => {
    const yaml = (partitions: number) =>
      `apiVersion: sluice.dev/v1alpha1\nkind: Topic\nmetadata: {name: payments}\nspec:\n  partitions: ${partitions}\n  config: {retention.ms: 3600000}\n`;
    const created = await sluice(['apply', '-f', '-'], { stdin: yaml(2) });
    expect(created.code, created.stderr).toBe(0);
    expect(created.stdout.trim()).toBe('topic.sluice.dev/payments created (2 partitions)');
    const grown = await sluice(['apply', '-f', '-'], { stdin: yaml(3) });
    expect(grown.code, grown.stderr).toBe(0);
    expect(grown.stdout.trim()).toBe('topic.sluice.dev/payments configured (partitions 2 -> 3)');
    const same = await sluice(['apply', '-f', '-'], { stdin: yaml(3) });
    expect(same.stdout.trim()).toBe('topic.sluice.dev/payments unchanged');
    const shrink = await sluice(['apply', '-f', '-'], { stdin: yaml(1) });
    expect(shrink.code).toBe(1);
    expect(shrink.stderr).toMatch(/^error \[INVALID_PARTITIONS\]: <stdin>: topic "payments" has 3 partitions and the manifest asks for 1/);
    const described = await sluice(['topic', 'describe', 'payments', '--output', 'json']);
    const topic = JSON.parse(described.stdout) as { partitions: unknown[]; config: Record<string, string> };
    expect(topic.partitions).toHaveLength(3);
    expect(topic.config['retention.ms']).toBe('3600000');
  }, 60_000);
});
