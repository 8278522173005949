// A controller and N brokers as separate OS processes on this machine: what `sluice dev` runs,
// and what benchmarks and process-level tests start. Separate processes make failures real —
// SIGKILL, SIGSTOP and restarts hit a process with its own memory, sockets and data dir.
//
// Layout under dataDir: controller/, broker-0/ …, and logs/<name>.log holding each child's
// stderr (pino JSON) and any stdout besides its READY line.
import { spawn, type ChildProcess } from 'node:child_process';
import { EventEmitter } from 'node:events';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import {
  DEFAULT_BROKER_GRPC_PORT_BASE,
  DEFAULT_BROKER_HTTP_PORT_BASE,
  DEFAULT_CONTROLLER_GRPC_PORT,
  DEFAULT_CONTROLLER_HTTP_PORT,
  parseReadyLine,
  type ReadyInfo,
} from '../../common/ready-line.ts';

export const BROKER_SCRIPT = fileURLToPath(new URL('../../broker/main.ts', import.meta.url));
export const CONTROLLER_SCRIPT = fileURLToPath(new URL('../../operator/local/controller-main.ts', import.meta.url));

export interface EmbeddedClusterOptions {
  dataDir: string;
  brokers: number;
  /** true: the fixed ports of `sluice dev` (controller 9090/9190, broker i 9092+i/9192+i); default false: port 0. */
  basePorts?: boolean;
  /** Interface the brokers listen on and advertise. Default 127.0.0.1. */
  host?: string;
  sessionTimeoutMs?: number;
  /** Extra environment for every child, on top of this process's environment. */
  env?: Record<string, string>;
  /** Extra arguments per broker, e.g. `(id) => ['--rack', `r${id % 2}`]`. */
  brokerArgs?: readonly string[] | ((id: number) => readonly string[]);
  controllerArgs?: readonly string[];
  /** How long a child may take to print its READY line. Default 30 s. */
  readyTimeoutMs?: number;
  /** How long a SIGTERMed child may take to exit before it is SIGKILLed. Default 10 s. */
  stopTimeoutMs?: number;
  /** Entry points, replaceable so the process handling can be tested without a real broker. */
  brokerScript?: string;
  controllerScript?: string;
}

export type ProcessRole = 'controller' | 'broker';

export interface ProcessInfo {
  role: ProcessRole;
  /** Broker id, or the controller's node id once it has reported it. */
  id: number;
  /** `controller` or `broker-<id>`: also the name of its data dir and log file. */
  name: string;
  pid: number | undefined;
  /** host:port of the gRPC server (known after the first start, kept across restarts). */
  grpc: string;
  /** host:port of the HTTP server (/metrics, /healthz). */
  http: string;
  running: boolean;
  paused: boolean;
  dataDir: string;
  logFile: string;
}

export interface ChildExit {
  role: ProcessRole;
  id: number;
  name: string;
  pid: number | undefined;
  code: number | null;
  signal: NodeJS.Signals | null;
  /** False when nobody asked it to stop: a crash the caller may want to report. */
  expected: boolean;
  logFile: string;
}

interface Managed {
  role: ProcessRole;
  id: number;
  name: string;
  script: string;
  dataDir: string;
  logFile: string;
  grpcPort: number;
  httpPort: number;
  ready: ReadyInfo | undefined;
  child: ChildProcess | undefined;
  exited: Promise<void> | undefined;
  paused: boolean;
  stopping: boolean;
}

const LOG_TAIL_BYTES = 16 * 1024;
const LOG_TAIL_LINES = 20;

export class EmbeddedCluster extends EventEmitter<{ exit: [ChildExit] }> {
  readonly dataDir: string;
  readonly logDir: string;
  private readonly opts: Required<Pick<EmbeddedClusterOptions, 'host' | 'readyTimeoutMs' | 'stopTimeoutMs'>> & EmbeddedClusterOptions;
  private readonly controller: Managed;
  private readonly brokerProcs: Managed[];
  private stopped = false;

  private constructor(options: EmbeddedClusterOptions) {
    super();
    if (!Number.isInteger(options.brokers) || options.brokers < 1) {
      throw new RangeError(`brokers must be a whole number >= 1 (got ${options.brokers})`);
    }
    this.opts = { host: '127.0.0.1', readyTimeoutMs: 30_000, stopTimeoutMs: 10_000, ...options };
    this.dataDir = path.resolve(options.dataDir);
    this.logDir = path.join(this.dataDir, 'logs');
    const fixed = options.basePorts === true;
    const managed = (role: ProcessRole, id: number, name: string, script: string, grpcPort: number, httpPort: number): Managed => ({
      role, id, name, script,
      dataDir: path.join(this.dataDir, name),
      logFile: path.join(this.logDir, `${name}.log`),
      grpcPort: fixed ? grpcPort : 0,
      httpPort: fixed ? httpPort : 0,
      ready: undefined, child: undefined, exited: undefined, paused: false, stopping: false,
    });
    this.controller = managed('controller', 0, 'controller', options.controllerScript ?? CONTROLLER_SCRIPT,
      DEFAULT_CONTROLLER_GRPC_PORT, DEFAULT_CONTROLLER_HTTP_PORT);
    this.brokerProcs = Array.from({ length: options.brokers }, (_, id) =>
      managed('broker', id, `broker-${id}`, options.brokerScript ?? BROKER_SCRIPT,
        DEFAULT_BROKER_GRPC_PORT_BASE + id, DEFAULT_BROKER_HTTP_PORT_BASE + id));
  }

  /**
   * Starts the controller, then every broker, and resolves once all printed READY. On any
   * failure everything already started is stopped before the error is thrown.
   */
  static async start(options: EmbeddedClusterOptions): Promise<EmbeddedCluster> {
    const cluster = new EmbeddedCluster(options);
    fs.mkdirSync(cluster.logDir, { recursive: true });
    try {
      if (options.basePorts === true) await cluster.assertPortsFree();
      await cluster.spawnAndWait(cluster.controller);
      await Promise.all(cluster.brokerProcs.map((b) => cluster.spawnAndWait(b)));
    } catch (err) {
      await cluster.stop();
      throw err;
    }
    return cluster;
  }

  /** Comma-separated gRPC addresses of all brokers: what clients take as bootstrap servers. */
  get bootstrapServers(): string {
    return this.brokerProcs.map((b) => this.address(b, 'grpc')).join(',');
  }

  get controllerAddress(): string {
    return this.address(this.controller, 'grpc');
  }

  get controllerInfo(): ProcessInfo {
    return this.info(this.controller);
  }

  get brokers(): ProcessInfo[] {
    return this.brokerProcs.map((b) => this.info(b));
  }

  broker(id: number): ProcessInfo {
    return this.info(this.brokerProc(id));
  }

  async killBroker(id: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const b = this.brokerProc(id);
    if (!b.child || !b.exited) return;
    b.stopping = true;
    b.child.kill(signal);
    // A stopped process holds every signal but SIGKILL until it is continued.
    if (b.paused && signal !== 'SIGKILL') b.child.kill('SIGCONT');
    await b.exited;
  }

  /** SIGTERM (the broker's controlled shutdown) and wait; SIGKILL after stopTimeoutMs. */
  async stopBroker(id: number): Promise<void> {
    await this.terminate(this.brokerProc(id));
  }

  /** Starts a stopped broker again on the same data dir and ports. */
  async startBroker(id: number): Promise<ProcessInfo> {
    const b = this.brokerProc(id);
    if (b.child) throw new Error(`broker ${id} is already running (pid ${b.child.pid})`);
    await this.spawnAndWait(b);
    return this.info(b);
  }

  pauseBroker(id: number): void {
    const b = this.brokerProc(id);
    if (!b.child) throw new Error(`broker ${id} is not running`);
    b.child.kill('SIGSTOP');
    b.paused = true;
  }

  resumeBroker(id: number): void {
    const b = this.brokerProc(id);
    if (!b.child) throw new Error(`broker ${id} is not running`);
    b.child.kill('SIGCONT');
    b.paused = false;
  }

  /** Stops the controller (SIGTERM, or SIGKILL to simulate a crash) and starts it on the same ports and state. */
  async restartController(options: { signal?: 'SIGTERM' | 'SIGKILL' } = {}): Promise<ProcessInfo> {
    const c = this.controller;
    if (options.signal === 'SIGKILL' && c.child && c.exited) {
      c.stopping = true;
      c.child.kill('SIGKILL');
      await c.exited;
    } else {
      await this.terminate(c);
    }
    await this.spawnAndWait(c);
    return this.info(c);
  }

  /**
   * Brokers first, so their controlled shutdown still finds a controller; then the
   * controller. Each phase is bounded by stopTimeoutMs, after which stragglers are SIGKILLed.
   */
  async stop(): Promise<void> {
    this.stopped = true;
    await Promise.all(this.brokerProcs.map((b) => this.terminate(b)));
    await this.terminate(this.controller);
  }

  private brokerProc(id: number): Managed {
    const b = this.brokerProcs[id];
    if (!b) throw new RangeError(`no broker ${id}; this cluster has brokers 0..${this.brokerProcs.length - 1}`);
    return b;
  }

  private address(m: Managed, kind: 'grpc' | 'http'): string {
    if (m.ready) return connectableAddress(m.ready[kind]);
    return `${this.opts.host}:${kind === 'grpc' ? m.grpcPort : m.httpPort}`;
  }

  private info(m: Managed): ProcessInfo {
    return {
      role: m.role,
      // The controller chooses its own node id; a broker's is the one it was given.
      id: m.ready?.id ?? m.id,
      name: m.name,
      pid: m.child?.pid,
      grpc: this.address(m, 'grpc'),
      http: this.address(m, 'http'),
      running: m.child !== undefined,
      paused: m.paused,
      dataDir: m.dataDir,
      logFile: m.logFile,
    };
  }

  private args(m: Managed): string[] {
    const common = ['--port', String(m.grpcPort), '--http-port', String(m.httpPort), '--data-dir', m.dataDir];
    if (m.role === 'controller') {
      const extra = this.opts.sessionTimeoutMs !== undefined ? ['--session-timeout-ms', String(this.opts.sessionTimeoutMs)] : [];
      return [...common, ...extra, ...(this.opts.controllerArgs ?? [])];
    }
    const custom = this.opts.brokerArgs;
    const extra = typeof custom === 'function' ? custom(m.id) : custom ?? [];
    return ['--id', String(m.id), ...common, '--controller', this.controllerAddress, '--host', this.opts.host, ...extra];
  }

  private async spawnAndWait(m: Managed): Promise<void> {
    if (this.stopped) throw new Error(`cluster in ${this.dataDir} is stopped`);
    fs.mkdirSync(m.dataDir, { recursive: true });
    const logStart = fileSize(m.logFile);
    const logFd = fs.openSync(m.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(process.execPath, [m.script, ...this.args(m)], {
        env: { ...process.env, ...this.opts.env },
        // The child writes stderr straight into its log file: nothing in this process has to
        // keep up with a chatty broker, and the log survives this process.
        stdio: ['ignore', 'pipe', logFd],
        // Its own process group: Ctrl-C in a terminal reaches only this process, which then
        // stops brokers before the controller instead of everything dying at once.
        detached: true,
      });
    } finally {
      fs.closeSync(logFd);
    }
    m.child = child;
    m.paused = false;
    m.stopping = false;
    trackChild(child);
    const stdoutLog = fs.createWriteStream(m.logFile, { flags: 'a' });
    let onReady: ((info: ReadyInfo) => void) | undefined;
    const readyLine = new Promise<ReadyInfo>((resolve) => { onReady = resolve; });
    const lines = createInterface({ input: child.stdout!, crlfDelay: Infinity });
    lines.on('line', (line) => {
      const info = onReady ? parseReadyLine(line) : null;
      if (info && onReady) {
        onReady(info);
        onReady = undefined;
      } else {
        stdoutLog.write(`${line}\n`);
      }
    });
    lines.once('close', () => stdoutLog.end());
    const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
    m.exited = new Promise<void>((resolve) => {
      child.once('exit', (code, signal) => {
        const expected = m.stopping || this.stopped;
        if (m.child === child) {
          m.child = undefined;
          m.exited = undefined;
          m.paused = false;
        }
        this.emit('exit', { role: m.role, id: m.id, name: m.name, pid: child.pid, code, signal, expected, logFile: m.logFile });
        resolve();
      });
    });
    const exited = m.exited;

    let timer: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      readyLine.then((info) => ({ kind: 'ready' as const, info })),
      exited.then(() => ({ kind: 'exited' as const })),
      spawnError.then((error) => ({ kind: 'error' as const, error })),
      new Promise<{ kind: 'timeout' }>((resolve) => { timer = setTimeout(() => resolve({ kind: 'timeout' }), this.opts.readyTimeoutMs); }),
    ]);
    clearTimeout(timer);
    const who = `${m.role === 'controller' ? 'controller' : `broker ${m.id}`} (${path.relative(process.cwd(), m.script) || m.script})`;
    switch (outcome.kind) {
      case 'ready':
        m.ready = outcome.info;
        // Later restarts bind the same ports, so peers and clients holding the old address
        // (brokers hold the controller's; clients hold the bootstrap list) reconnect.
        m.grpcPort = portOf(outcome.info.grpc);
        m.httpPort = portOf(outcome.info.http);
        return;
      case 'exited':
        throw new Error(`${who} exited before it was ready; last lines of ${m.logFile}:\n${tailSince(m.logFile, logStart)}`);
      case 'error':
        // A child that never started emits no 'exit'; forget it so start can be retried.
        if (m.child === child) {
          m.child = undefined;
          m.exited = undefined;
        }
        liveChildren.delete(child);
        throw new Error(`${who} could not be started: ${outcome.error.message}`);
      case 'timeout':
        m.stopping = true;
        child.kill('SIGKILL');
        await exited;
        throw new Error(`${who} printed no READY line within ${this.opts.readyTimeoutMs} ms; last lines of ${m.logFile}:\n${tailSince(m.logFile, logStart)}`);
    }
  }

  private async terminate(m: Managed): Promise<void> {
    const child = m.child;
    const exited = m.exited;
    if (!child || !exited) return;
    m.stopping = true;
    child.kill('SIGTERM');
    if (m.paused) child.kill('SIGCONT');
    let timer: NodeJS.Timeout | undefined;
    const timedOut = await Promise.race([
      exited.then(() => false),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), this.opts.stopTimeoutMs); }),
    ]);
    clearTimeout(timer);
    if (timedOut) {
      child.kill('SIGKILL');
      await exited;
    }
  }

  private async assertPortsFree(): Promise<void> {
    const wanted: { port: number; owner: string }[] = [
      { port: this.controller.grpcPort, owner: 'controller gRPC' },
      { port: this.controller.httpPort, owner: 'controller HTTP' },
      ...this.brokerProcs.flatMap((b) => [
        { port: b.grpcPort, owner: `broker ${b.id} gRPC` },
        { port: b.httpPort, owner: `broker ${b.id} HTTP` },
      ]),
    ];
    for (const { port, owner } of wanted) {
      const problem = await portProblem(this.opts.host, port);
      if (problem) {
        throw new Error(`port ${port} (${owner}) on ${this.opts.host} is not free: ${problem}. ` +
          'Is another `sluice dev` running? Stop it or free the port.');
      }
    }
  }
}

/** Rewrites a wildcard listen address into one a client on this host can dial. */
export function connectableAddress(address: string): string {
  const i = address.lastIndexOf(':');
  const host = address.slice(0, i);
  if (host === '0.0.0.0' || host === '::' || host === '[::]' || host === '') return `127.0.0.1:${address.slice(i + 1)}`;
  return address;
}

function portOf(address: string): number {
  return Number(address.slice(address.lastIndexOf(':') + 1));
}

function portProblem(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE' ? 'already in use' : err.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

function fileSize(file: string): number {
  try {
    return fs.statSync(file).size;
  } catch {
    return 0;
  }
}

/** The last lines a child wrote since `from`, pino JSON shortened to level and message. */
export function tailSince(file: string, from: number): string {
  let text: string;
  try {
    const size = fileSize(file);
    const start = Math.max(from, size - LOG_TAIL_BYTES);
    const fd = fs.openSync(file, 'r');
    try {
      const buf = Buffer.alloc(size - start);
      fs.readSync(fd, buf, 0, buf.length, start);
      text = buf.toString('utf8');
    } finally {
      fs.closeSync(fd);
    }
  } catch (err) {
    return `  (could not read the log: ${(err as Error).message})`;
  }
  const lines = text.split('\n').filter((l) => l.trim().length > 0).slice(-LOG_TAIL_LINES);
  if (lines.length === 0) return '  (the log is empty)';
  return lines.map((l) => `  ${shortenLogLine(l)}`).join('\n');
}

const PINO_LEVELS: Record<number, string> = { 10: 'trace', 20: 'debug', 30: 'info', 40: 'warn', 50: 'error', 60: 'fatal' };

function shortenLogLine(line: string): string {
  if (!line.startsWith('{')) return line;
  try {
    const rec = JSON.parse(line) as { level?: number; msg?: string; err?: { message?: string } };
    if (typeof rec.msg !== 'string') return line;
    const level = PINO_LEVELS[rec.level ?? 0] ?? String(rec.level);
    return `${level}: ${rec.msg}${rec.err?.message ? ` (${rec.err.message})` : ''}`;
  } catch {
    return line;
  }
}

// ---------------------------------------------------------------------------------------------
// Children must not outlive this process. Each live child is tracked; on exit every one left is
// SIGKILLed, and on a fatal signal nobody else handles, the children are killed before the
// signal is re-raised so this process still dies the way the sender meant. A SIGKILL of this
// process runs none of that, so a small watchdog process holds a pipe from us and the list of
// child pids: when the pipe reaches end-of-file — however we died — it kills what is left.

const liveChildren = new Set<ChildProcess>();
const FATAL_SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
let guardsInstalled = false;

function killLiveChildren(): void {
  for (const child of liveChildren) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone: nothing to clean up.
    }
  }
}

function onFatalSignal(signal: NodeJS.Signals): void {
  // Someone else (`sluice dev`, a test runner) handles this signal and will stop the cluster
  // in order; killing the children here would pre-empt that.
  if (process.listenerCount(signal) > 1) return;
  killLiveChildren();
  removeGuards();
  process.kill(process.pid, signal);
}

function installGuards(): void {
  if (guardsInstalled) return;
  guardsInstalled = true;
  process.on('exit', killLiveChildren);
  for (const s of FATAL_SIGNALS) process.on(s, onFatalSignal);
}

function removeGuards(): void {
  if (!guardsInstalled) return;
  guardsInstalled = false;
  process.removeListener('exit', killLiveChildren);
  for (const s of FATAL_SIGNALS) process.removeListener(s, onFatalSignal);
}

// Plain JavaScript for `node -e`: `+pid` / `-pid` lines add and remove children; EOF kills them.
const WATCHDOG_SOURCE = `
const pids = new Set();
let pending = '';
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk) => {
  pending += chunk;
  for (let nl = pending.indexOf('\\n'); nl >= 0; nl = pending.indexOf('\\n')) {
    const line = pending.slice(0, nl);
    pending = pending.slice(nl + 1);
    if (line[0] === '+') pids.add(Number(line.slice(1)));
    else pids.delete(Number(line.slice(1)));
  }
});
process.stdin.on('end', () => {
  for (const pid of pids) { try { process.kill(pid, 'SIGKILL'); } catch {} }
  process.exit(0);
});
`;

let watchdog: ChildProcess | undefined;

function tellWatchdog(line: string): void {
  if (!watchdog) {
    watchdog = spawn(process.execPath, ['-e', WATCHDOG_SOURCE], { stdio: ['pipe', 'ignore', 'ignore'], detached: true });
    // Neither the watchdog nor its pipe may keep this process alive: it exists for our death.
    watchdog.unref();
    (watchdog.stdin as unknown as { unref(): void }).unref();
    watchdog.stdin!.on('error', () => undefined);
    watchdog.once('exit', () => { watchdog = undefined; });
  }
  watchdog.stdin!.write(`${line}\n`);
}

function trackChild(child: ChildProcess): void {
  liveChildren.add(child);
  installGuards();
  if (child.pid !== undefined) tellWatchdog(`+${child.pid}`);
  child.once('exit', () => {
    liveChildren.delete(child);
    if (child.pid !== undefined && watchdog) tellWatchdog(`-${child.pid}`);
    if (liveChildren.size === 0) removeGuards();
  });
}

/** Children started by any EmbeddedCluster in this process that have not exited yet. */
export function liveChildCount(): number {
  return liveChildren.size;
}
