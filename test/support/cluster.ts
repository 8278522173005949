// One embedded cluster per test file: real controller and broker processes in a fresh temp dir,
// always stopped afterwards (even when a hook or test throws), with the tail of every process
// log printed when something failed — a process-level failure is rarely explained by the
// assertion alone.
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, afterEach, beforeAll } from 'vitest';
import { EmbeddedCluster, tailSince, type ChildExit, type EmbeddedClusterOptions } from '../../client/cli/embedded-cluster.ts';

export const CLUSTER_START_TIMEOUT_MS = 45_000;
export const CLUSTER_STOP_TIMEOUT_MS = 30_000;

export interface TestClusterOptions extends Partial<Omit<EmbeddedClusterOptions, 'dataDir' | 'basePorts'>> {
  /** Where the cluster lives; default a fresh dir under the OS temp dir. Never removed when given. */
  dataDir?: string;
}

export class TestCluster {
  readonly cluster: EmbeddedCluster;
  readonly dataDir: string;
  /** Children that exited without anybody asking: a crash. */
  readonly unexpectedExits: ChildExit[] = [];
  private readonly ownsDataDir: boolean;

  private constructor(cluster: EmbeddedCluster, dataDir: string, ownsDataDir: boolean) {
    this.cluster = cluster;
    this.dataDir = dataDir;
    this.ownsDataDir = ownsDataDir;
    cluster.on('exit', (exit) => {
      if (!exit.expected) this.unexpectedExits.push(exit);
    });
  }

  static async start(options: TestClusterOptions = {}): Promise<TestCluster> {
    const ownsDataDir = options.dataDir === undefined;
    const dataDir = options.dataDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-test-'));
    const { dataDir: _ignored, ...rest } = options;
    let cluster: EmbeddedCluster;
    try {
      cluster = await EmbeddedCluster.start({
        brokers: 1,
        // Controller then brokers, each bounded, stay within CLUSTER_START_TIMEOUT_MS.
        readyTimeoutMs: 20_000,
        stopTimeoutMs: 10_000,
        ...rest,
        dataDir,
        basePorts: false,
      });
    } catch (err) {
      // EmbeddedCluster.start already stopped what it started and put the log tail in the message.
      if (ownsDataDir) fs.rmSync(dataDir, { recursive: true, force: true });
      throw err;
    }
    return new TestCluster(cluster, dataDir, ownsDataDir);
  }

  /** Bootstrap list in the shape client options take. */
  get bootstrapServers(): string[] {
    return this.cluster.bootstrapServers.split(',');
  }

  brokerAddress(id = 0): string {
    return this.cluster.broker(id).grpc;
  }

  brokerDir(id = 0): string {
    return this.cluster.broker(id).dataDir;
  }

  partitionDir(topic: string, partition: number, brokerId = 0): string {
    return path.join(this.brokerDir(brokerId), `${topic}-${partition}`);
  }

  /** Whether the broker's OS process exists right now (signal 0 probes without touching it). */
  brokerProcessAlive(id = 0): boolean {
    const info = this.cluster.broker(id);
    if (!info.running || info.pid === undefined) return false;
    try {
      process.kill(info.pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** Tail of every process log, for a failure report. */
  logTails(): string {
    const procs = [this.cluster.controllerInfo, ...this.cluster.brokers];
    return procs.map((p) => `--- ${p.name} (${p.logFile}) ---\n${tailSince(p.logFile, 0)}`).join('\n');
  }

  describeCrashes(): string {
    return this.unexpectedExits
      .map((e) => `${e.name} (pid ${e.pid}) exited on its own with ${e.signal ? `signal ${e.signal}` : `code ${e.code}`}; log: ${e.logFile}`)
      .join('\n');
  }

  async stop(options: { keepDataDir?: boolean } = {}): Promise<void> {
    await this.cluster.stop();
    if (this.ownsDataDir && !options.keepDataDir) fs.rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** Work that must bracket the cluster's life, e.g. mounting the file system it writes to. */
export interface ClusterLifecycle {
  beforeStart?: () => void | Promise<void>;
  /** Runs after the cluster stopped (or failed to start), even when stopping threw. */
  afterStop?: () => void | Promise<void>;
}

/**
 * Registers hooks that start a cluster before the file's tests and stop it after them. On a
 * failed test the process log tails are printed; on any failure the data dir is kept for a
 * post-mortem and its path printed.
 */
export function useTestCluster(
  options: TestClusterOptions | (() => TestClusterOptions) = {},
  lifecycle: ClusterLifecycle = {},
): () => TestCluster {
  let current: TestCluster | undefined;
  let starting: Promise<TestCluster> | undefined;
  let failed = false;
  beforeAll(async () => {
    await lifecycle.beforeStart?.();
    starting = TestCluster.start(typeof options === 'function' ? options() : options);
    current = await starting;
  }, CLUSTER_START_TIMEOUT_MS);
  const report = (c: TestCluster): void => {
    failed = true;
    const crashes = c.describeCrashes();
    console.error(`${crashes ? `${crashes}\n` : ''}process logs of the cluster in ${c.dataDir}:\n${c.logTails()}`);
  };
  afterEach((ctx) => {
    if (ctx.task.result?.state === 'fail' && current) report(current);
  });
  // vitest wants a destructuring pattern for the (unused) fixture context before the suite.
  afterAll(async ({}, suite) => {
    // A start that outlived beforeAll's timeout still finishes later; wait for it so its
    // processes are stopped here rather than leaked.
    const c = current ?? (await starting?.catch(() => undefined));
    current = undefined;
    // A failed beforeAll of the test file fails no single test, so afterEach never reported it.
    if (c && !failed && (suite.result?.errors?.length ?? 0) > 0) report(c);
    try {
      if (c) await c.stop({ keepDataDir: failed });
    } finally {
      await lifecycle.afterStop?.();
    }
  }, CLUSTER_STOP_TIMEOUT_MS);
  return () => {
    if (!current) throw new Error('the test cluster did not start (see the beforeAll error)');
    return current;
  };
}

/** Polls `probe` until it returns a value other than undefined, or fails naming what it waited for. */
export async function waitFor<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 15_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() >= deadline) {
      const why = lastError instanceof Error ? `; last error: ${lastError.message}` : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${why}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
