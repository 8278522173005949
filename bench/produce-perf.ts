// Producer throughput and latency, the way Kafka's docs measure it: kafka-producer-perf-test's
// output from `sluice perf produce`, run as its own process against brokers in their own
// processes, so client and brokers never share an event loop.
//
//   npm run bench:produce                          # embedded cluster in a temp dir
//   npm run bench:produce -- --acks all --brokers 3 --replication-factor 3
//   npm run bench:produce -- --bootstrap-server 10.0.0.5:9092 --topic perf
//   npm run bench:produce -- --runs 5             # five runs, then their medians
//   npm run bench:produce -- --profile /tmp/prof  # V8 CPU profiles of client and brokers
//
// See bench/README.md for how to read the numbers.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Admin } from '../client/admin.ts';
import { EmbeddedCluster } from '../client/cli/embedded-cluster.ts';
import { silentLogger } from '../common/logger.ts';
import { wholeNumber } from './bench-args.ts';

const CLI = fileURLToPath(new URL('../client/cli/main.ts', import.meta.url));

const { values: args } = parseArgs({
  options: {
    'bootstrap-server': { type: 'string' },
    brokers: { type: 'string', default: '1' },
    partitions: { type: 'string', default: '6' },
    'replication-factor': { type: 'string' },
    topic: { type: 'string' },
    'num-records': { type: 'string', default: '2000000' },
    'record-size': { type: 'string', default: '1024' },
    acks: { type: 'string', default: '1' },
    throughput: { type: 'string', default: '-1' },
    compression: { type: 'string', default: 'none' },
    'batch-size': { type: 'string' },
    'linger-ms': { type: 'string' },
    'buffer-memory': { type: 'string' },
    runs: { type: 'string', default: '1' },
    keep: { type: 'boolean', default: false },
    profile: { type: 'string' },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (args.help) {
  process.stdout.write(fs.readFileSync(fileURLToPath(new URL('./README.md', import.meta.url)), 'utf8'));
  process.exit(0);
}

const brokers = wholeNumber('brokers', args.brokers, 1);
const partitions = wholeNumber('partitions', args.partitions, 1);
const replicationFactor = wholeNumber('replication-factor', args['replication-factor'] ?? String(Math.min(3, brokers)), 1);
const runs = wholeNumber('runs', args.runs, 1);
const topicBase = args.topic ?? `bench-produce-${Date.now()}`;
// Every run writes to a topic of its own, so each starts from empty logs.
const topicOf = (run: number): string => (runs === 1 ? topicBase : `${topicBase}-${run}`);
// --profile <dir>: V8 CPU profiles of the perf client and of every cluster process, written
// when they exit (bench/profile-top.ts prints their top). Absolute, because children run
// with their own working directories.
const profileDir = args.profile === undefined ? undefined : path.resolve(args.profile);
if (profileDir !== undefined) fs.mkdirSync(profileDir, { recursive: true });

let cluster: EmbeddedCluster | undefined;
let dataDir: string | undefined;
let perf: ChildProcess | undefined;

/** Runs the CLI as its own process; stdout is captured and, with `show`, passed through; stderr is shown. */
function cli(argv: string[], show: boolean, nodeArgs: string[] = []): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgs, CLI, ...argv], { stdio: ['ignore', 'pipe', 'inherit'] });
    perf = child;
    let stdout = '';
    child.stdout?.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (show) process.stdout.write(c);
    });
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      perf = undefined;
      resolve({ code: code ?? (signal ? 128 : 1), stdout });
    });
  });
}

async function cleanUp(): Promise<void> {
  perf?.kill('SIGKILL');
  await cluster?.stop();
  if (dataDir && !args.keep) fs.rmSync(dataDir, { recursive: true, force: true });
}

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    process.stderr.write(`\n${signal}: stopping the benchmark\n`);
    void cleanUp().finally(() => process.exit(130));
  });
}

interface RunResult {
  recordsPerSec: number;
  mbPerSec: number;
  p50: number;
  p99: number;
  load: number;
}

function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(', ');
}

/** The numbers of the totals line `sluice perf produce` prints last. */
function parseTotals(stdout: string): Omit<RunResult, 'load'> | null {
  const m = /records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\).*?(\d+) ms 50th, \d+ ms 95th, (\d+) ms 99th/.exec(stdout.trim().split('\n').at(-1) ?? '');
  return m ? { recordsPerSec: Number(m[1]), mbPerSec: Number(m[2]), p50: Number(m[3]), p99: Number(m[4]) } : null;
}

/**
 * Waits until the brokers serve the topic with a leader for every partition: `topic create`
 * returns once the controller has it, and the brokers hear of it a moment later.
 */
async function waitForTopic(bootstrap: string, topic: string, timeoutMs = 15_000): Promise<void> {
  const admin = new Admin({ bootstrapServers: bootstrap.split(","), logger: silentLogger() });
  const deadline = Date.now() + timeoutMs;
  try {
    for (;;) {
      const found = (await admin.metadata([topic])).topics.find((t) => t.name === topic);
      if (found && found.error === null && found.partitions.length === partitions && found.partitions.every((p) => p.leaderId >= 0)) return;
      if (Date.now() > deadline) throw new Error(`topic ${topic} has no leader for every partition after ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    await admin.close();
  }
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function summary(results: RunResult[]): string {
  const col = (f: (r: RunResult) => number) => results.map(f);
  const mb = col((r) => r.mbPerSec);
  return `# median of ${results.length} runs: ${median(col((r) => r.recordsPerSec)).toFixed(0)} records/sec ` +
    `(${median(mb).toFixed(2)} MB/sec, runs ${Math.min(...mb).toFixed(1)}-${Math.max(...mb).toFixed(1)}), ` +
    `${median(col((r) => r.p50))} ms 50th, ${median(col((r) => r.p99))} ms 99th; load average after runs ${col((r) => r.load).map((l) => l.toFixed(2)).join(' ')}\n`;
}

let exitCode = 1;
try {
  let bootstrap = args['bootstrap-server'];
  if (bootstrap === undefined) {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'));
    cluster = await EmbeddedCluster.start({
      dataDir,
      brokers,
      ...(profileDir !== undefined ? { env: { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --cpu-prof --cpu-prof-dir=${profileDir}`.trim() } } : {}),
    });
    bootstrap = cluster.bootstrapServers;
    cluster.on('exit', (e) => {
      if (!e.expected) process.stderr.write(`${e.name} (pid ${e.pid}) died during the benchmark; see ${e.logFile}\n`);
    });
  }

  process.stdout.write([
    `# sluice perf produce: ${args['num-records']} records of ${args['record-size']} bytes, acks=${args.acks}, compression=${args.compression}` +
      (runs > 1 ? `, ${runs} runs` : ''),
    `# topic ${topicOf(1)}${runs > 1 ? ' ...' : ''}: ${partitions} partitions, replication factor ${replicationFactor}, ` +
      (cluster ? `embedded cluster of ${brokers} broker${brokers === 1 ? '' : 's'} (${cluster.dataDir})` : `cluster at ${bootstrap}`),
    `# node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ${os.platform()} ${os.release()}`,
    '',
  ].join('\n'));
  const results: RunResult[] = [];
  exitCode = 0;
  for (let run = 1; run <= runs && exitCode === 0; run++) {
    const topic = topicOf(run);
    const created = await cli(['topic', 'create', topic, '--partitions', String(partitions), '--replication-factor', String(replicationFactor),
      '--bootstrap-server', bootstrap], false);
    if (created.code !== 0) throw new Error(`could not create topic ${topic} (exit ${created.code})`);
    await waitForTopic(bootstrap, topic);
    const perfArgs = [
      'perf', 'produce', '--bootstrap-server', bootstrap, '--topic', topic,
      '--num-records', args['num-records'], '--record-size', args['record-size'], '--acks', args.acks,
      '--throughput', args.throughput, '--compression', args.compression,
      ...(args['batch-size'] !== undefined ? ['--batch-size', args['batch-size']] : []),
      ...(args['linger-ms'] !== undefined ? ['--linger-ms', args['linger-ms']] : []),
      ...(args['buffer-memory'] !== undefined ? ['--buffer-memory', args['buffer-memory']] : []),
    ];
    const profileName = runs === 1 ? 'perf-client.cpuprofile' : `perf-client-${run}.cpuprofile`;
    const perfNodeArgs = profileDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`, `--cpu-prof-name=${profileName}`] : [];
    // The machine's load averages (1, 5, 15 min) before each run: numbers from a busy machine
    // are not comparable with numbers from an idle one.
    process.stdout.write(`# run ${run}: load average ${loadAverage()}\n`);
    const result = await cli(perfArgs, true, perfNodeArgs);
    exitCode = result.code;
    const parsed = parseTotals(result.stdout);
    if (parsed) results.push({ ...parsed, load: os.loadavg()[0]! });
    // A run writes GiBs; several runs would fill a small disk. --keep keeps them to look at.
    if (!args.keep) await cli(['topic', 'delete', topic, '--bootstrap-server', bootstrap], false);
  }
  if (runs > 1 && results.length > 0) process.stdout.write(summary(results));
} catch (err) {
  process.stderr.write(`bench:produce failed: ${err instanceof Error ? err.message : String(err)}\n`);
  exitCode = 1;
} finally {
  const processes = cluster ? [cluster.controllerInfo, ...cluster.brokers] : [];
  await cleanUp();
  if (profileDir !== undefined) {
    // Profiles are named by pid; say which pid was which process.
    const who = processes.map((p) => `${p.name}=${p.pid}`).join(', ');
    process.stdout.write(`# CPU profiles in ${profileDir}: perf-client*.cpuprofile${who ? `; cluster pids ${who}` : ''}; read them with node bench/profile-top.ts\n`);
  }
}
process.exit(exitCode);
