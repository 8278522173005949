// One controller per data dir: DATA_DIR/controller.lock, created exclusively ('wx') and holding
// the owner's pid. Two controllers on one state file would both elect leaders and hand out
// epochs; the state file's compare-and-set would stop the second at its first write, but only
// after it had started serving. The lock turns that into a refusal at start.
//
// A lock whose pid is dead is stale (a crashed or SIGKILLed controller) and is taken over. So is
// one naming this very pid that this process does not hold: a container restarts its entry
// point with the same pid. A pid reused by an unrelated process keeps the lock "held"; the
// refusal says how to clear it.
import { existsSync, readFileSync } from 'node:fs';
import { open, readFile, unlink } from 'node:fs/promises';
import { hostname } from 'node:os';
import path from 'node:path';

export const LOCK_FILE = 'controller.lock';

/** Another live process holds the data dir; the controller must not start. */
export class ControllerLockError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ControllerLockError';
  }
}

export interface ControllerLock {
  readonly file: string;
  /** Removes the lock if it is still ours. Idempotent. */
  release(): Promise<void>;
}

export interface LockOptions {
  /** The pid written into the lock; this process's by default. */
  readonly pid?: number;
  /** Whether a pid names a running process; tests substitute their own. */
  readonly isAlive?: (pid: number) => boolean;
}

interface LockContent {
  readonly pid: number;
  readonly hostname: string;
  readonly startedAt: string;
}

/** Lock files this process holds: a lock naming our own pid is stale unless it is in here. */
const heldHere = new Set<string>();

/** Takes the data dir's lock, or throws ControllerLockError when a live controller holds it. */
export async function acquireControllerLock(dataDir: string, options: LockOptions = {}): Promise<ControllerLock> {
  const file = path.join(path.resolve(dataDir), LOCK_FILE);
  const pid = options.pid ?? process.pid;
  const isAlive = options.isAlive ?? processIsAlive;
  const content: LockContent = { pid, hostname: hostname(), startedAt: new Date().toISOString() };
  const text = `${JSON.stringify(content)}\n`;

  // Two rounds: the second after removing a stale lock. A racing controller that took the lock in
  // between makes the second round fail with EEXIST and a live holder, as it should.
  for (let round = 0; ; round++) {
    try {
      const fh = await open(file, 'wx', 0o644);
      try {
        await fh.writeFile(text, 'utf8');
        await fh.sync();
      } finally {
        await fh.close();
      }
      heldHere.add(file);
      return { file, release: () => release(file, text) };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new ControllerLockError(`cannot create ${file}: ${(e as Error).message}`);
    }
    const existing = await readIfPresent(file);
    if (existing === undefined) continue; // released meanwhile
    const holder = parse(existing);
    const stale = holder !== undefined && (holder.pid === process.pid ? !heldHere.has(file) : !isAlive(holder.pid));
    if (!stale || round > 0) {
      const who = holder ? `process ${holder.pid} on ${holder.hostname}, since ${holder.startedAt}` : `an unreadable lock (${JSON.stringify(existing.slice(0, 80))})`;
      throw new ControllerLockError(
        `another controller holds ${file} (${who}); only one controller may use a data dir. ` +
          `Stop that controller, or give this one another --data-dir. If no controller is running on ${path.dirname(file)}, delete ${file} and start again.`,
      );
    }
    await unlink(file).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== 'ENOENT') throw e;
    });
  }
}

async function release(file: string, text: string): Promise<void> {
  if (!heldHere.delete(file)) return;
  // Never remove a lock another controller took over (after deciding ours was stale).
  if ((await readIfPresent(file)) !== text) return;
  await unlink(file).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'ENOENT') throw e;
  });
}

function processIsAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (e) {
    // EPERM: it exists but belongs to another user, which is still a live holder.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
  // A killed controller whose parent has not reaped it yet still answers signal 0; on Linux its
  // state says it is a zombie, which holds nothing.
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    // Without /proc (not Linux) signal 0 is all there is; with it, a missing entry means it exited.
    return !existsSync('/proc/self/stat');
  }
}

function parse(text: string): LockContent | undefined {
  try {
    const v = JSON.parse(text) as Partial<LockContent>;
    if (Number.isSafeInteger(v.pid) && (v.pid as number) > 0) return { pid: v.pid as number, hostname: String(v.hostname ?? '?'), startedAt: String(v.startedAt ?? '?') };
  } catch {
    // Unreadable: treated as held, so a half-written lock of a starting controller is respected.
  }
  return undefined;
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}
