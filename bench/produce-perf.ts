// Producer throughput and latency, the way Kafka's docs measure it: kafka-producer-perf-test's
// output from `sluice perf produce`, run as its own process against brokers in their own
// processes, so client and brokers never share an event loop.
//
//   npm run bench:produce                          # embedded cluster in a temp dir
//   npm run bench:produce -- --acks all --brokers 3 --replication-factor 3
//   npm run bench:produce -- --bootstrap-server 10.0.0.5:9092 --topic perf
//
// See bench/README.md for how to read the numbers.
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { EmbeddedCluster } from '../client/cli/embedded-cluster.ts';

const CLI = fileURLToPath(new URL('../client/cli/main.ts', import.meta.url));

const { values: args } = parseArgs({
  options: {
    'bootstrap-server': { type: 'string' },
    brokers: { type: 'string', default: '1' },
    partitions: { type: 'string', default: '6' },
    'replication-factor': { type: 'string' },
    topic: { type: 'string' },
    'num-records': { type: 'string', default: '600000' },
    'record-size': { type: 'string', default: '1024' },
    acks: { type: 'string', default: '1' },
    throughput: { type: 'string', default: '-1' },
    compression: { type: 'string', default: 'none' },
    'batch-size': { type: 'string' },
    'linger-ms': { type: 'string' },
    keep: { type: 'boolean', default: false },
    help: { type: 'boolean', short: 'h', default: false },
  },
  strict: true,
});

if (args.help) {
  process.stdout.write(fs.readFileSync(fileURLToPath(new URL('./README.md', import.meta.url)), 'utf8'));
  process.exit(0);
}

function wholeNumber(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`--${name} must be a whole number >= ${min} (got "${raw}")\n`);
    process.exit(2);
  }
  return n;
}

const brokers = wholeNumber('brokers', args.brokers, 1);
const partitions = wholeNumber('partitions', args.partitions, 1);
const replicationFactor = wholeNumber('replication-factor', args['replication-factor'] ?? String(Math.min(3, brokers)), 1);
const topic = args.topic ?? `bench-produce-${Date.now()}`;

let cluster: EmbeddedCluster | undefined;
let dataDir: string | undefined;
let perf: ChildProcess | undefined;

/** Runs the CLI as its own process; stdout is shown (or captured), stderr always shown. */
function cli(argv: string[], capture: boolean): Promise<{ code: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...argv], { stdio: ['ignore', capture ? 'pipe' : 'inherit', 'inherit'] });
    perf = child;
    let stdout = '';
    child.stdout?.on('data', (c: Buffer) => { stdout += c.toString(); });
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

let exitCode = 1;
try {
  let bootstrap = args['bootstrap-server'];
  if (bootstrap === undefined) {
    dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-bench-'));
    cluster = await EmbeddedCluster.start({ dataDir, brokers });
    bootstrap = cluster.bootstrapServers;
    cluster.on('exit', (e) => {
      if (!e.expected) process.stderr.write(`${e.name} (pid ${e.pid}) died during the benchmark; see ${e.logFile}\n`);
    });
  }

  const created = await cli(['topic', 'create', topic, '--partitions', String(partitions), '--replication-factor', String(replicationFactor),
    '--bootstrap-server', bootstrap], true);
  if (created.code !== 0) throw new Error(`could not create topic ${topic} (exit ${created.code})`);

  const perfArgs = [
    'perf', 'produce', '--bootstrap-server', bootstrap, '--topic', topic,
    '--num-records', args['num-records'], '--record-size', args['record-size'], '--acks', args.acks,
    '--throughput', args.throughput, '--compression', args.compression,
    ...(args['batch-size'] !== undefined ? ['--batch-size', args['batch-size']] : []),
    ...(args['linger-ms'] !== undefined ? ['--linger-ms', args['linger-ms']] : []),
  ];
  process.stdout.write([
    `# sluice perf produce: ${args['num-records']} records of ${args['record-size']} bytes, acks=${args.acks}, compression=${args.compression}`,
    `# topic ${topic}: ${partitions} partitions, replication factor ${replicationFactor}, ` +
      (cluster ? `embedded cluster of ${brokers} broker${brokers === 1 ? '' : 's'} (${cluster.dataDir})` : `cluster at ${bootstrap}`),
    `# node ${process.version}, ${os.cpus().length} CPUs (${os.cpus()[0]?.model ?? 'unknown'}), ${os.platform()} ${os.release()}`,
    '',
  ].join('\n'));
  exitCode = (await cli(perfArgs, false)).code;
} catch (err) {
  process.stderr.write(`bench:produce failed: ${err instanceof Error ? err.message : String(err)}\n`);
  exitCode = 1;
} finally {
  await cleanUp();
}
process.exit(exitCode);
