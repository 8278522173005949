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
/** Three brokers: the smallest cluster where an RF=3, min.insync.replicas=2 topic survives a
 *  broker failure, so the failover walkthrough in the README works on the defaults. */
export const DEFAULT_DEV_BROKERS = 3;
/** Shorter than the controller's default (10 s) so a restarted broker leads its preferred
 *  partitions again soon enough for someone watching `sluice cluster describe`. */
export const DEV_LEADER_REBALANCE_INTERVAL_MS = 5_000;
/** Long enough after a crash that the controller (6 s session timeout) has fenced the broker
 *  and moved its leaderships, so the new leaders and the shrunk ISR can be seen before it returns. */
export const DEV_BROKER_RESTART_DELAY_MS = 15_000;
/** A broker that dies again this soon after we restarted it is crash-looping: leave it down. */
const CRASH_LOOP_WINDOW_MS = 30_000;

interface DevOptions {
  brokers: number;
  dataDir: string;
  fresh?: boolean;
  restart: boolean;
  leaderRebalanceIntervalMs: number;
}

export function registerDevCommand(program: Command, contextOf: ContextOf): void {
  program
    .command('dev')
    .description('run a local cluster (a controller and brokers as separate processes) in the foreground')
    .option('--brokers <n>', 'number of brokers', (v) => parseInteger('--brokers', v, { min: 1, max: MAX_DEV_BROKERS }), DEFAULT_DEV_BROKERS)
    .option('--data-dir <dir>', 'where the cluster keeps its data and logs', DEFAULT_DEV_DATA_DIR)
    .option('--fresh', 'delete the data dir first and start empty')
    .option('--no-restart', `leave a broker that died unexpectedly down (default: restart it after ${DEV_BROKER_RESTART_DELAY_MS / 1000} s)`)
    .option('--leader-rebalance-interval-ms <ms>', 'how often the controller moves leadership back to preferred replicas that are in sync; 0 = never',
      (v) => parseInteger('--leader-rebalance-interval-ms', v, { min: 0, max: 86_400_000 }), DEV_LEADER_REBALANCE_INTERVAL_MS)
    .addHelpText('after', `
Ports: controller 9090 (gRPC) and 9190 (HTTP); broker i 9092+i (gRPC) and 9192+i (HTTP,
/metrics). Each process logs to <data-dir>/logs/<name>.log.

Killing a broker process (kill -9 PID, PIDs are printed at start) is a real failure: after the
controller's session timeout (6 s) the others take over its leaderships and it leaves the ISR;
watch with \`sluice cluster describe\`. ${DEV_BROKER_RESTART_DELAY_MS / 1000} s after a broker died unexpectedly, sluice dev
starts it again (unless --no-restart): it catches up, rejoins the ISR and, after the
preferred-leader rebalance interval, leads its preferred partitions again.
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
      const restartTimers = new Set<NodeJS.Timeout>();
      const finished = new Promise<void>((resolve) => { finish = resolve; });
      const onSignal = (signal: NodeJS.Signals) => {
        signals++;
        if (signals > 1) {
          warn(ctx.io, `\n${signal} again: killing every process now.`);
          process.exit(130);
        }
        for (const t of restartTimers) clearTimeout(t);
        restartTimers.clear();
        warn(ctx.io, `\n${signal}: stopping brokers, then the controller (press Ctrl-C again to kill them)...`);
        stopping = (cluster?.stop() ?? Promise.resolve()).then(() => finish?.());
      };
      const handled: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
      for (const s of handled) process.on(s, onSignal);
      try {
        if (ctx.io.stderrIsTty) warn(ctx.io, `Starting a controller and ${opts.brokers} broker${opts.brokers === 1 ? '' : 's'} in ${dataDir} ...`);
        try {
          cluster = await EmbeddedCluster.start({
            dataDir,
            brokers: opts.brokers,
            basePorts: true,
            controllerArgs: ['--leader-rebalance-interval-ms', String(opts.leaderRebalanceIntervalMs)],
          });
        } catch (err) {
          if (signals > 0) return;
          throw err;
        }
        if (signals > 0) {
          // A signal arrived while starting; its stop() ran before the cluster existed.
          await cluster.stop();
          return;
        }
        const running = cluster;
        const lastRestart = new Map<number, number>();
        running.on('exit', (exit) => {
          if (exit.expected) return;
          // Only brokers come back on their own: without the controller nothing can be elected,
          // and its crash is worth the user's full attention.
          const restartable = opts.restart && exit.role === 'broker' && signals === 0;
          const since = lastRestart.get(exit.id);
          const crashLoop = since !== undefined && Date.now() - since < CRASH_LOOP_WINDOW_MS;
          reportExit(ctx.io, exit, restartable && !crashLoop ? 'restart' : crashLoop ? 'crash-loop' : 'none');
          if (!restartable || crashLoop) return;
          const timer = setTimeout(() => {
            restartTimers.delete(timer);
            if (signals > 0) return;
            lastRestart.set(exit.id, Date.now());
            running.startBroker(exit.id).then(
              (info) => warn(ctx.io, `Broker ${exit.id} restarted (pid ${info.pid}): it catches up from the leaders and rejoins the ISR; \`sluice cluster describe\` shows it.`),
              (err: unknown) => {
                if (signals === 0) warn(ctx.io, `Broker ${exit.id} could not be restarted: ${(err as Error).message}`);
              },
            );
          }, DEV_BROKER_RESTART_DELAY_MS);
          restartTimers.add(timer);
        });
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

function reportExit(io: CliIo, exit: ChildExit, next: 'restart' | 'crash-loop' | 'none'): void {
  const how = exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
  const who = exit.role === 'controller' ? 'The controller' : `Broker ${exit.id}`;
  const then = next === 'restart'
    ? ` The others take over its leaderships once the controller fences it; restarting it in ${DEV_BROKER_RESTART_DELAY_MS / 1000} s.`
    : next === 'crash-loop'
      ? ` It died again within ${CRASH_LOOP_WINDOW_MS / 1000} s of its restart, so it stays down: see its log.`
      : ' The other processes keep running; Ctrl-C stops them.';
  warn(io, `${who} (pid ${exit.pid}) ${how}; its log is ${exit.logFile}.${then}`);
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
    `  ${sluice} topic create ${topic} --partitions 3${cluster.brokers.length >= 3 ? ' --replication-factor 3' : ''}`,
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
