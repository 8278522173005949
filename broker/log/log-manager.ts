// All partition logs of one broker data directory: loading them at start (with crash recovery
// when the previous process did not shut down cleanly), creating and deleting them, and the
// background work (retention, flush.ms, HW checkpoints). A log that cannot be loaded is logged
// and skipped: one damaged partition must not keep the broker's other partitions offline.
// Logs loaded at start carry the broker's defaults until the controller's metadata gives them
// their topic's config, and retention leaves them alone until then.
import { mkdir, readFile, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { SluiceError, isSluiceError } from '../../common/errors.ts';
import { validateTopicName } from '../../common/topic-config.ts';
import { fsyncDirectory, writeFileAtomically } from './checkpoint-file.ts';
import { validateLogConfig, type LogConfig } from './log-config.ts';
import { DELETE_DIR_SUFFIX } from './log-file-names.ts';
import { PartitionLog, readPartitionMetadata, removeLogDir } from './partition-log.ts';

/**
 * Written by close(); removed at open() before any log loads. It lists, one per line, the log
 * directories that still need recovery (they failed to load or to close); every other log
 * closed cleanly. Empty: every log did.
 */
export const CLEAN_SHUTDOWN_FILE = '.sluice-clean-shutdown';
const LOAD_CONCURRENCY = 8;
const DEFAULT_HW_CHECKPOINT_INTERVAL_MS = 5000;

/** `<topic>-<partition>` → its parts; topic names may contain '-', so split on the last one. */
export function parseLogDirName(name: string): { topic: string; partition: number } | null {
  const match = /^(.+)-(\d{1,9})$/.exec(name);
  if (match === null) return null;
  const topic = match[1]!;
  try {
    validateTopicName(topic);
  } catch {
    return null;
  }
  return { topic, partition: Number(match[2]) };
}

export function logDirName(topic: string, partition: number): string {
  return `${topic}-${partition}`;
}

/** The log directories the marker says still need recovery, or null when there is no marker. */
async function readCleanShutdownMarker(path: string): Promise<Set<string> | null> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
  const names = text.split('\n').filter((line) => line !== '');
  // A marker that is not a list of log directories is not trusted: recover everything.
  if (names.some((name) => parseLogDirName(name) === null)) return null;
  return new Set(names);
}

async function forEachLimited<T>(items: readonly T[], limit: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) await fn(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

export class LogManager {
  readonly dataDir: string;
  readonly #defaults: LogConfig;
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #logs = new Map<string, PartitionLog>();
  /**
   * Directories that failed to load at open() and have not been loaded or removed since. close()
   * lists them in the clean-shutdown marker: otherwise the next start would skip recovery of a
   * log that was never recovered after the crash before.
   */
  readonly #unloaded = new Set<string>();  /** Per-partition serialization of create and delete. */
  readonly #keyChains = new Map<string, Promise<unknown>>();
  #timers: NodeJS.Timeout[] = [];
  readonly #running = new Set<Promise<void>>();
  #closing = false;

  constructor(opts: { dataDir: string; defaults: LogConfig; logger: Logger; now?: () => number }) {
    this.dataDir = opts.dataDir;
    this.#defaults = validateLogConfig({ ...opts.defaults });
    this.#logger = opts.logger;
    this.#now = opts.now ?? Date.now;
  }

  async open(): Promise<void> {
    await mkdir(this.dataDir, { recursive: true });
    const marker = join(this.dataDir, CLEAN_SHUTDOWN_FILE);
    const needRecovery = await readCleanShutdownMarker(marker);
    const clean = needRecovery !== null;
    if (clean) {
      // Removed (durably) before any log is touched: a crash from here on must trigger recovery.
      await rm(marker, { force: true });
      await fsyncDirectory(this.dataDir);
    }
    const entries = await readdir(this.dataDir, { withFileTypes: true });
    const dirs: { dir: string; topic: string; partition: number }[] = [];
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      if (entry.name.endsWith(DELETE_DIR_SUFFIX)) {
        this.#logger.info({ dir: entry.name }, 'removing a log directory whose deletion was interrupted');
        await rm(join(this.dataDir, entry.name), { recursive: true, force: true });
        continue;
      }
      const parsed = parseLogDirName(entry.name);
      if (parsed === null) {
        this.#logger.warn({ dir: entry.name }, 'ignoring a directory that is not <topic>-<partition>');
        continue;
      }
      dirs.push({ dir: join(this.dataDir, entry.name), ...parsed });
    }
    const started = this.#now();
    await forEachLimited(dirs, LOAD_CONCURRENCY, async ({ dir, topic, partition }) => {
      const key = logDirName(topic, partition);
      try {
        const topicId = (await readPartitionMetadata(dir).catch(() => null)) ?? '';
        const log = await PartitionLog.open(dir, {
          topic,
          partition,
          topicId,
          config: this.#defaults,
          configured: false,
          logger: this.#logger,
          now: this.#now,
          recover: needRecovery === null || needRecovery.has(key),
        });
        this.#logs.set(key, log);
      } catch (err) {
        this.#unloaded.add(key);
        this.#logger.error({ err, topic, partition, dir }, 'cannot load partition log; skipping it');
      }
    });
    this.#logger.info({ logs: this.#logs.size, directories: dirs.length, cleanShutdown: clean, ms: this.#now() - started }, 'logs loaded');
  }

  getLog(topic: string, partition: number): PartitionLog | undefined {
    return this.#logs.get(logDirName(topic, partition));
  }

  allLogs(): PartitionLog[] {
    return [...this.#logs.values()];
  }

  #withKey<T>(key: string, task: () => Promise<T>): Promise<T> {
    const run = (this.#keyChains.get(key) ?? Promise.resolve()).then(task, task);
    const tail = run.catch(() => undefined);
    this.#keyChains.set(key, tail);
    void tail.then(() => {
      if (this.#keyChains.get(key) === tail) this.#keyChains.delete(key);
    });
    return run;
  }

  /**
   * The log of a partition, created if needed, with `config` applied. A log whose stored topic
   * id differs belongs to a deleted topic of the same name and is deleted first, so a
   * re-created topic never serves the old topic's records.
   */
  getOrCreateLog(topic: string, partition: number, topicId: string, config: LogConfig): Promise<PartitionLog> {
    try {
      validateTopicName(topic);
      if (!Number.isSafeInteger(partition) || partition < 0) throw new SluiceError('INVALID_PARTITIONS', `partition ${partition} is not an integer >= 0`, { topic, partition });
      validateLogConfig(config);
    } catch (err) {
      return Promise.reject(err);
    }
    const key = logDirName(topic, partition);
    return this.#withKey(key, async () => {
      if (this.#closing) throw new SluiceError('CLOSED', 'the log manager is shutting down', { topic, partition });
      const existing = this.#logs.get(key);
      if (existing !== undefined) {
        if (existing.topicId === topicId) {
          existing.updateConfig(config);
          return existing;
        }
        if (existing.topicId === '') {
          await existing.assignTopicId(topicId);
          existing.updateConfig(config);
          return existing;
        }
        this.#logger.info({ topic, partition, oldTopicId: existing.topicId, topicId }, 'topic was re-created; deleting the old log');
        this.#logs.delete(key);
        await existing.delete();
      }
      const dir = join(this.dataDir, key);
      // A directory that failed to load at open may still be here.
      const stored = await readPartitionMetadata(dir).catch(() => null);
      if (stored !== null && stored !== topicId) {
        this.#logger.info({ topic, partition, oldTopicId: stored, topicId }, 'removing the log directory of an older topic with the same name');
        await removeLogDir(dir);
      }
      let log: PartitionLog;
      try {
        log = await PartitionLog.open(dir, { topic, partition, topicId, config, logger: this.#logger, now: this.#now, recover: true });
      } catch (err) {
        if (isSluiceError(err)) throw err;
        throw new SluiceError('STORAGE_ERROR', `cannot open the log of ${key} in ${dir}: ${(err as Error).message}`, { topic, partition }, { cause: err });
      }
      // Opened with recovery, so a directory that failed to load at open() is sound now.
      this.#unloaded.delete(key);
      this.#logs.set(key, log);
      return log;
    });
  }

  deleteLog(topic: string, partition: number): Promise<void> {
    const key = logDirName(topic, partition);
    return this.#withKey(key, async () => {
      const log = this.#logs.get(key);
      this.#logs.delete(key);
      if (log !== undefined) await log.delete();
      else await removeLogDir(join(this.dataDir, key));
      this.#unloaded.delete(key);
    });
  }

  /** Retention, flush.ms and HW checkpoints on unref'd timers (they never keep the process alive). */
  startBackgroundTasks(opts: { retentionCheckIntervalMs: number; flushCheckIntervalMs: number; highWatermarkCheckpointIntervalMs?: number }): void {
    this.#stopTimers();
    const every = (ms: number, name: string, work: (log: PartitionLog) => Promise<unknown>): void => {
      let busy = false;
      const timer = setInterval(() => {
        // A pass slower than its interval is not stacked on top of itself.
        if (busy || this.#closing) return;
        busy = true;
        const pass = (async () => {
          for (const log of this.allLogs()) {
            try {
              await work(log);
            } catch (err) {
              this.#logger.error({ err, topic: log.topic, partition: log.partition, task: name }, 'background log task failed');
            }
          }
        })().finally(() => {
          busy = false;
          this.#running.delete(pass);
        });
        this.#running.add(pass);
      }, ms);
      timer.unref();
      this.#timers.push(timer);
    };
    every(opts.retentionCheckIntervalMs, 'retention', (log) => log.enforceRetention());
    every(opts.flushCheckIntervalMs, 'flush', (log) => log.flushIfDue());
    every(opts.highWatermarkCheckpointIntervalMs ?? DEFAULT_HW_CHECKPOINT_INTERVAL_MS, 'checkpoint', (log) => log.checkpoint());
  }

  #stopTimers(): void {
    for (const timer of this.#timers) clearInterval(timer);
    this.#timers = [];
  }

  /**
   * Closes every log, then writes the clean-shutdown marker naming the logs that did not close
   * cleanly and the directories that never loaded: those must be recovered at the next start,
   * the others need not be.
   */
  async close(): Promise<void> {
    this.#closing = true;
    this.#stopTimers();
    await Promise.all([...this.#running]);
    await Promise.all([...this.#keyChains.values()]);
    const unrecovered = new Set(this.#unloaded);
    await forEachLimited(this.allLogs(), LOAD_CONCURRENCY, async (log) => {
      try {
        await log.close();
      } catch (err) {
        unrecovered.add(logDirName(log.topic, log.partition));
        this.#logger.error({ err, topic: log.topic, partition: log.partition }, 'log did not close cleanly');
      }
    });
    await writeFileAtomically(join(this.dataDir, CLEAN_SHUTDOWN_FILE), [...unrecovered].map((name) => `${name}\n`).join(''));
    if (unrecovered.size > 0) {
      this.#logger.warn({ logs: this.#logs.size, unrecovered: [...unrecovered] }, 'some logs did not close cleanly or never loaded; the next start recovers them');
    } else {
      this.#logger.info({ logs: this.#logs.size }, 'all logs closed cleanly');
    }
  }
}
