// `sluice dev`: a controller and brokers as separate processes on the default ports, in the
// foreground until Ctrl-C. The first thing a new user runs.
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Command } from 'commander';
import { UsageError } from '../cli-errors.ts';
import { EmbeddedCluster, type ChildExit, type ProcessInfo } from '../embedded-cluster.ts';
import { parseInteger } from '../option-parsers.ts';
import { printJson, printLine, renderTable, warn, type CliIo } from '../output.ts';
import type { ContextOf } from '../program.ts';

export const DEFAULT_DEV_DATA_DIR = '.sluice/dev';
/** Above this the default ports of brokers would run into the HTTP port range (9192+). */
const MAX_DEV_BROKERS = 64;

interface DevOptions {
  brokers: number;
  dataDir: string;
  fresh?: boolean;
}

export function registerDevCommand(program: Command, contextOf: ContextOf): void {
  program
    .command('dev')
    .description('run a local cluster (a controller and brokers as separate processes) in the foreground')
    .option('--brokers <n>', 'number of brokers', (v) => parseInteger('--brokers', v, { min: 1, max: MAX_DEV_BROKERS }), 1)
    .option('--data-dir <dir>', 'where the cluster keeps its data and logs', DEFAULT_DEV_DATA_DIR)
    .option('--fresh', 'delete the data dir first and start empty')
    .addHelpText('after', `
Ports: controller 9090 (gRPC) and 9190 (HTTP); broker i 9092+i (gRPC) and 9192+i (HTTP,
/metrics). Each process logs to <data-dir>/logs/<name>.log. Killing a broker process
(kill -9 PID) is a real failure: watch the others take over with \`sluice cluster describe\`.
Ctrl-C stops brokers first (controlled shutdown), then the controller.`)
    .action(async (opts: DevOptions, cmd: Command) => {
      const ctx = contextOf(cmd);
      const dataDir = path.resolve(opts.dataDir);
      if (opts.fresh) removeDevDataDir(dataDir);

      // Handlers go in before the cluster starts: a Ctrl-C during startup must stop whatever
      // was already started, and (being listeners) they keep the cluster's own last-resort
      // signal guard from SIGKILLing the children ahead of the orderly stop below.
      let cluster: EmbeddedCluster | undefined;
      let stopping: Promise<void> | undefined;
      let signals = 0;
      let finish: (() => void) | undefined;
      const finished = new Promise<void>((resolve) => { finish = resolve; });
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          warn(ctx.io, `\n${signal} again: killing every process now.`);
          process.exit(130);
        }
        warn(ctx.io, `\n${signal}: stopping brokers, then the controller (press Ctrl-C again to kill them)...`);
        stopping = (cluster?.stop() ?? Promise.resolve()).then(() => finish?.());
      };
      const handled: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
      for (const s of handled) process.on(s, onSignal);
      try {
        if (ctx.io.stderrIsTty) warn(ctx.io, `Starting a controller and ${opts.brokers} broker${opts.brokers === 1 ? '' : 's'} in ${dataDir} ...`);
        try {
          cluster = await EmbeddedCluster.start({ dataDir, brokers: opts.brokers, basePorts: true });
        } catch (err) {
          if (signals > 0) return;
          throw err;
        }
        if (signals > 0) {
          // A signal arrived while starting; its stop() ran before the cluster existed.
          await cluster.stop();
          return;
        }
        cluster.on('exit', (exit) => reportExit(ctx.io, exit));
        if (ctx.output === 'json') printJson(ctx.io, devStatusJson(cluster));
        else printLine(ctx.io, devStatusText(cluster, ctx.io.env));
        await finished;
        await stopping;
        if (ctx.output === 'text') printLine(ctx.io, 'Stopped.');
      } finally {
        for (const s of handled) process.removeListener(s, onSignal);
      }
    });
}

/**
 * `--fresh` deletes a directory tree, so it only does so for a directory that looks like one
 * `sluice dev` made: a typo like `--data-dir ~ --fresh` must not wipe a home directory.
 */
export function removeDevDataDir(dataDir: string): void {
  if (!fs.existsSync(dataDir)) return;
  const entries = fs.readdirSync(dataDir);
  const ours = (e: string) => e === 'controller' || e === 'logs' || /^broker-\d+$/.test(e);
  const foreign = entries.filter((e) => !ours(e));
  if (foreign.length > 0) {
    throw new UsageError(`--fresh would delete ${dataDir}, but it holds things sluice dev did not create ` +
      `(${foreign.slice(0, 5).join(', ')}${foreign.length > 5 ? ', …' : ''}); remove it yourself or pick another --data-dir`);
  }
  fs.rmSync(dataDir, { recursive: true, force: true });
}

function reportExit(io: CliIo, exit: ChildExit): void {
  if (exit.expected) return;
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  const who = exit.role === 'controller' ? 'The controller' : `Broker ${exit.id}`;
  warn(io, `${who} (pid ${exit.pid}) ${how}; its log is ${exit.logFile}. The other processes keep running; Ctrl-C stops them.`);
}

function devStatusJson(cluster: EmbeddedCluster): unknown {
  const entry = (p: ProcessInfo) => ({ id: p.id, pid: p.pid, grpc: p.grpc, metrics: `http://${p.http}/metrics`, dataDir: p.dataDir, logFile: p.logFile });
  return {
    bootstrapServers: cluster.bootstrapServers,
    dataDir: cluster.dataDir,
    logDir: cluster.logDir,
    controller: entry(cluster.controllerInfo),
    brokers: cluster.brokers.map(entry),
  };
}

function devStatusText(cluster: EmbeddedCluster, env: Record<string, string | undefined>): string {
  const row = (name: string, p: ProcessInfo) => [name, p.grpc, `http://${p.http}/metrics`, String(p.pid ?? '-'), path.relative(process.cwd(), p.logFile) || p.logFile];
  const sluice = sluiceInvocation(env);
  const topic = 'demo';
  return [
    `Sluice dev cluster is up: 1 controller, ${cluster.brokers.length} broker${cluster.brokers.length === 1 ? '' : 's'}.`,
    '',
    renderTable(['PROCESS', 'GRPC', 'METRICS', 'PID', 'LOG'], [
      row('controller', cluster.controllerInfo),
      ...cluster.brokers.map((b) => row(`broker ${b.id}`, b)),
    ]),
    '',
    `Data dir:          ${cluster.dataDir}`,
    `Bootstrap servers: ${cluster.bootstrapServers}`,
    '',
    'Try this in another terminal:',
    `  ${sluice} topic create ${topic} --partitions 3`,
    `  printf 'k1:hello\\nk2:world\\n' | ${sluice} produce ${topic} --key-separator :`,
    `  ${sluice} consume ${topic} --from-beginning --print-key`,
    `  ${sluice} cluster describe`,
    '',
    'Ctrl-C stops the cluster.',
  ].join('\n');
}

/** How the user invoked us, so the hints can be pasted as they are: from `npm start` the CLI
 *  is the project's own bin, which `npx sluice` runs (as the README shows). */
function sluiceInvocation(env: Record<string, string | undefined>): string {
  return env.npm_lifecycle_event !== undefined ? 'npx sluice' : 'sluice';
}
