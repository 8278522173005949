import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as os from 'node:os';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { EmbeddedCluster, connectableAddress, liveChildCount, type ChildExit } from './embedded-cluster.ts';

const FAKE = fileURLToPath(new URL('./test-fixtures/fake-sluice-process.ts', import.meta.url));
const OWNER = fileURLToPath(new URL('./test-fixtures/cluster-owner.ts', import.meta.url));

let dataDir: string;
let cluster: EmbeddedCluster | undefined;

beforeEach(() => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-embedded-'));
});

afterEach(async () => {
  await cluster?.stop();
  cluster = undefined;
  fs.rmSync(dataDir, { recursive: true, force: true });
});

function start(extra: Partial<Parameters<typeof EmbeddedCluster.start>[0]> = {}): Promise<EmbeddedCluster> {
  return EmbeddedCluster.start({ dataDir, brokers: 2, brokerScript: FAKE, controllerScript: FAKE, readyTimeoutMs: 10_000, ...extra });
}

function alive(pid: number | undefined): boolean {
  if (pid === undefined) return false;
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  // An orphan that died waits as a zombie until init reaps it; in a container init may never.
  try {
    return processState(pid) !== 'Z';
  } catch {
    return false;
  }
}

function connects(address: string): Promise<boolean> {
  const i = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = net.connect(Number(address.slice(i + 1)), address.slice(0, i));
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}

function processState(pid: number): string {
  // Field 3 of /proc/<pid>/stat: R/S running or sleeping, T stopped.
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? '';
}

async function waitFor(check: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!check()) {
    if (Date.now() > until) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('EmbeddedCluster', () => {
  it('starts a controller and brokers on real ports, each with its own data dir and log file', async () => {
    cluster = await start({ brokerArgs: (id) => ['--rack', `zone-${id}`], sessionTimeoutMs: 1234 });
    const servers = cluster.bootstrapServers.split(',');
    expect(servers).toHaveLength(2);
    for (const s of servers) {
      expect(s).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(s.endsWith(':0')).toBe(false);
      expect(await connects(s)).toBe(true);
    }
    expect(await connects(cluster.controllerAddress)).toBe(true);
    expect(new Set([cluster.controllerInfo.pid, ...cluster.brokers.map((b) => b.pid)]).size).toBe(3);
    for (const name of ['controller', 'broker-0', 'broker-1']) expect(fs.statSync(path.join(dataDir, name)).isDirectory()).toBe(true);

    const brokerLog = fs.readFileSync(path.join(dataDir, 'logs', 'broker-1.log'), 'utf8');
    expect(brokerLog).toContain(`"--controller","${cluster.controllerAddress}"`);
    expect(brokerLog).toContain('"--rack","zone-1"');
    expect(brokerLog).toContain(`"--data-dir","${path.join(dataDir, 'broker-1')}"`);
    expect(brokerLog).toContain('a line on stdout that is not the READY line');
    expect(brokerLog).not.toContain('SLUICE_READY');
    expect(fs.readFileSync(path.join(dataDir, 'logs', 'controller.log'), 'utf8')).toContain('"--session-timeout-ms","1234"');
  });

  it('restarts a killed broker on the same data dir and ports, and reports the kill as expected', async () => {
    cluster = await start();
    const exits: ChildExit[] = [];
    cluster.on('exit', (e) => exits.push(e));
    const before = cluster.broker(1);
    await cluster.killBroker(1);
    expect(alive(before.pid)).toBe(false);
    expect(cluster.broker(1).running).toBe(false);
    expect(exits).toEqual([expect.objectContaining({ name: 'broker-1', signal: 'SIGKILL', expected: true })]);
    expect(await connects(before.grpc)).toBe(false);

    const after = await cluster.startBroker(1);
    expect(after.pid).not.toBe(before.pid);
    expect(after.grpc).toBe(before.grpc);
    expect(after.http).toBe(before.http);
    expect(await connects(after.grpc)).toBe(true);
    await expect(cluster.startBroker(1)).rejects.toThrow(/already running/);
  });

  it('notices a child that dies on its own', async () => {
    cluster = await start();
    const exit = new Promise<ChildExit>((resolve) => cluster!.once('exit', resolve));
    process.kill(cluster.broker(0).pid!, 'SIGKILL');
    expect(await exit).toMatchObject({ role: 'broker', id: 0, signal: 'SIGKILL', expected: false });
    expect(cluster.broker(0).running).toBe(false);
  });

  it('pauses and resumes a broker with SIGSTOP/SIGCONT, and can still stop it while paused', async () => {
    cluster = await start();
    const pid = cluster.broker(0).pid!;
    cluster.pauseBroker(0);
    await waitFor(() => processState(pid) === 'T', 2_000);
    expect(cluster.broker(0).paused).toBe(true);
    cluster.resumeBroker(0);
    await waitFor(() => processState(pid) !== 'T', 2_000);
    cluster.pauseBroker(0);
    await cluster.stopBroker(0);
    expect(alive(pid)).toBe(false);
  });

  it('stop() SIGTERMs everything and SIGKILLs what ignores it after the bound', async () => {
    cluster = await start({ env: { FAKE_SLUICE_MODE_broker_0: 'ignore-sigterm' }, stopTimeoutMs: 300 });
    const pids = [cluster.controllerInfo.pid, ...cluster.brokers.map((b) => b.pid)];
    const exits: ChildExit[] = [];
    cluster.on('exit', (e) => exits.push(e));
    const t0 = Date.now();
    await cluster.stop();
    expect(Date.now() - t0).toBeLessThan(5_000);
    expect(pids.filter(alive)).toEqual([]);
    expect(exits.find((e) => e.name === 'broker-0')).toMatchObject({ signal: 'SIGKILL', expected: true });
    expect(exits.find((e) => e.name === 'broker-1')).toMatchObject({ code: 0, expected: true });
    // Brokers go first so their controlled shutdown still reaches the controller.
    expect(exits.at(-1)?.name).toBe('controller');
  });

  it('restarts the controller on the same address', async () => {
    cluster = await start();
    const before = cluster.controllerInfo;
    const after = await cluster.restartController({ signal: 'SIGKILL' });
    expect(after.pid).not.toBe(before.pid);
    expect(after.grpc).toBe(before.grpc);
    expect(await connects(after.grpc)).toBe(true);
  });

  it('fails with the log tail when a child dies before it is ready, leaving nothing running', async () => {
    const err = await start({ env: { FAKE_SLUICE_MODE_broker_1: 'crash' } }).catch((e: Error) => e);
    expect(err).toBeInstanceOf(Error);
    expect((err as Error).message).toMatch(/broker 1 .* exited before it was ready/);
    expect((err as Error).message).toContain('error: cannot open data dir (EACCES: permission denied)');
    expect((err as Error).message).toContain(path.join(dataDir, 'logs', 'broker-1.log'));
    expect(liveChildCount()).toBe(0);
  });

  it('gives up on a child that never prints READY', async () => {
    const err = await start({ env: { FAKE_SLUICE_MODE_controller: 'silent' }, readyTimeoutMs: 500 }).catch((e: Error) => e);
    expect((err as Error).message).toMatch(/controller .* printed no READY line within 500 ms/);
    expect((err as Error).message).toContain('info: starting');
    expect(liveChildCount()).toBe(0);
  });

  it('names the port that is taken when asked for the default ports', async () => {
    const blocker = net.createServer();
    const blocked = await new Promise<boolean>((resolve) => {
      blocker.once('error', () => resolve(false));
      blocker.listen(9190, '127.0.0.1', () => resolve(true));
    });
    try {
      const err = await start({ basePorts: true, brokers: 1 }).catch((e: Error) => e);
      // Whoever holds 9090/9190 (this test, or a dev cluster on this machine), it is named.
      expect((err as Error).message).toMatch(/port (9090 \(controller gRPC\)|9190 \(controller HTTP\)) on 127\.0\.0\.1 is not free/);
      expect(liveChildCount()).toBe(0);
    } finally {
      if (blocked) blocker.close();
    }
  });

  it('rejects a broker count below one', async () => {
    await expect(start({ brokers: 0 })).rejects.toThrow(/brokers must be a whole number >= 1/);
  });

  for (const how of ['exit', 'throw', 'SIGTERM', 'SIGINT', 'SIGKILL'] as const) {
    it(`leaves no child behind when its owner ends by ${how}`, async () => {
      const owner = spawn(process.execPath, [OWNER, dataDir, how === 'exit' || how === 'throw' ? how : 'wait'], { stdio: ['ignore', 'pipe', 'pipe'] });
      const first = await new Promise<string>((resolve, reject) => {
        createInterface({ input: owner.stdout! }).once('line', resolve);
        owner.once('exit', (code) => reject(new Error(`owner exited with ${code} before reporting its children`)));
      });
      const { pids } = JSON.parse(first) as { pids: number[] };
      expect(pids).toHaveLength(3);
      if (how === 'SIGTERM' || how === 'SIGINT' || how === 'SIGKILL') owner.kill(how);
      const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
        owner.once('exit', (code, signal) => resolve({ code, signal })));
      if (how === 'SIGTERM' || how === 'SIGINT' || how === 'SIGKILL') expect(exit.signal).toBe(how);
      await waitFor(() => pids.filter(alive).length === 0, 3_000);
    });
  }

  it('turns a wildcard listen address into one a client can dial', () => {
    expect(connectableAddress('0.0.0.0:9090')).toBe('127.0.0.1:9090');
    expect(connectableAddress('[::]:9090')).toBe('127.0.0.1:9090');
    expect(connectableAddress('10.0.0.5:9092')).toBe('10.0.0.5:9092');
  });
});
