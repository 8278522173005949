import { spawn, type ChildProcess } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { acquireControllerLock, ControllerLockError, LOCK_FILE } from './controller-lock.ts';
import { dataDir, HEARTBEAT_MS, onCleanup, runCleanups, SESSION_TIMEOUT_MS, start } from './controller-harness.ts';
import { startController } from './controller-server.ts';

afterEach(runCleanups);

/** A child process that idles until killed: a live pid that is not ours. */
function idleChild(): ChildProcess {
  const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
  onCleanup(() => {
    child.kill('SIGKILL');
  });
  return child;
}

/** The pid of a process that has exited. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}

async function lockText(dir: string): Promise<string> {
  return readFile(path.join(dir, LOCK_FILE), 'utf8');
}

async function refused(p: Promise<unknown>): Promise<ControllerLockError> {
  try {
    await p;
  } catch (e) {
    if (e instanceof ControllerLockError) return e;
    throw e;
  }
  throw new Error('expected a ControllerLockError');
}

describe('controller lock', () => {
  it('holds the data dir with this pid until released, refusing a second holder meanwhile', async () => {
    const dir = await dataDir();
    const lock = await acquireControllerLock(dir);
    expect(JSON.parse(await lockText(dir))).toMatchObject({ pid: process.pid });
    const e = await refused(acquireControllerLock(dir));
    expect(e.message).toMatch(new RegExp(`another controller holds .*controller\\.lock \\(process ${process.pid} on .*\\); only one controller may use a data dir`));
    await lock.release();
    await lock.release();
    const again = await acquireControllerLock(dir);
    await again.release();
  });

  it('refuses while another live process holds it, and takes it over once that process is gone', async () => {
    const dir = await dataDir();
    const child = idleChild();
    await writeFile(path.join(dir, LOCK_FILE), JSON.stringify({ pid: child.pid, hostname: 'elsewhere', startedAt: 'earlier' }));
    const e = await refused(acquireControllerLock(dir));
    expect(e.message).toContain(`process ${child.pid} on elsewhere, since earlier`);
    expect(e.message).toMatch(/Stop that controller, or give this one another --data-dir\. If no controller is running on .*, delete .*controller\.lock and start again/);

    child.kill('SIGKILL');
    await new Promise((resolve) => child.once('exit', resolve));
    const lock = await acquireControllerLock(dir);
    expect(JSON.parse(await lockText(dir)).pid).toBe(process.pid);
    await lock.release();
  });

  it('takes over a lock left by a dead process, or by an earlier process with this very pid (a restarted container)', async () => {
    const dir = await dataDir();
    await writeFile(path.join(dir, LOCK_FILE), JSON.stringify({ pid: await deadPid(), hostname: 'h', startedAt: 's' }));
    await (await acquireControllerLock(dir)).release();
    await writeFile(path.join(dir, LOCK_FILE), JSON.stringify({ pid: process.pid, hostname: 'h', startedAt: 's' }));
    await (await acquireControllerLock(dir)).release();
  });

  it('takes over a lock whose holder was killed but not yet reaped (a zombie)', async () => {
    const dir = await dataDir();
    // The background `sleep` exits after its parent shell has become `sleep 30` (exec), which
    // never reaps it. (Exiting sooner, the shell itself might reap it.)
    const parent = spawn('sh', ['-c', 'sleep 0.5 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    onCleanup(() => {
      parent.kill('SIGKILL');
    });
    const zombie = Number(await new Promise<string>((resolve) => parent.stdout!.once('data', (d: Buffer) => resolve(d.toString()))));
    const state = () => readFile(`/proc/${zombie}/stat`, 'utf8').then((t) => t.slice(t.lastIndexOf(')') + 2, t.lastIndexOf(')') + 3));
    for (let i = 0; (await state()) !== 'Z'; i++) {
      if (i > 500) throw new Error('no zombie appeared');
      await new Promise((r) => setTimeout(r, 10));
    }
    expect(() => process.kill(zombie, 0)).not.toThrow();
    await writeFile(path.join(dir, LOCK_FILE), JSON.stringify({ pid: zombie, hostname: 'h', startedAt: 's' }));
    await (await acquireControllerLock(dir)).release();
  });

  it('treats an unreadable lock as held, since a starting controller may not have written its pid yet', async () => {
    const dir = await dataDir();
    await writeFile(path.join(dir, LOCK_FILE), '');
    expect((await refused(acquireControllerLock(dir))).message).toContain('an unreadable lock ("")');
  });

  it('never removes a lock another controller took over', async () => {
    const dir = await dataDir();
    const lock = await acquireControllerLock(dir, { pid: 4242, isAlive: () => false });
    const theirs = JSON.stringify({ pid: 77, hostname: 'h', startedAt: 's' });
    await writeFile(path.join(dir, LOCK_FILE), theirs);
    await lock.release();
    expect(await lockText(dir)).toBe(theirs);
  });
});

describe('one controller per data dir', () => {
  it('refuses to start a second controller on a data dir in use, and starts once the first has stopped', async () => {
    const first = await start();
    const second = startController({ host: '127.0.0.1', port: 0, httpPort: 0, dataDir: first.dir, sessionTimeoutMs: SESSION_TIMEOUT_MS, heartbeatIntervalMs: HEARTBEAT_MS, nodeId: 1001 });
    expect((await refused(second)).message).toMatch(/another controller holds .*controller\.lock/);
    // The first one is unaffected: it still serves and can still persist.
    expect(first.controller.committed.healthy).toBe(true);
    expect((await fetch(`http://${first.controller.httpAddress}/readyz`)).status).toBe(200);
    await first.controller.stop();
    await expect(readFile(path.join(first.dir, LOCK_FILE), 'utf8')).rejects.toThrow(/ENOENT/);
    await start(first.dir);
  });

  it('releases the lock when startup fails after taking it', async () => {
    const dir = await dataDir();
    await writeFile(path.join(dir, 'controller-state.json'), 'not json');
    await expect(start(dir)).rejects.toThrow(/corrupt/);
    await expect(readFile(path.join(dir, LOCK_FILE), 'utf8')).rejects.toThrow(/ENOENT/);
  });
});
