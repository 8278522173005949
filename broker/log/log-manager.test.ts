import { mkdir, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CLEAN_SHUTDOWN_FILE, LogManager, parseLogDirName } from './log-manager.ts';
import { ManualClock, batch, capturingLogger, offsetsIn, removeTempDirs, silent, tempDir, testConfig } from './log-test-fixtures.ts';

afterAll(removeTempDirs);

const BATCH_SIZE = batch().length;

/** Flips a byte inside the records of the index-th batch (all batches are batch()-sized). */
async function damageBatch(path: string, index: number): Promise<void> {
  const bytes = await readFile(path);
  bytes[index * BATCH_SIZE + 40]! ^= 0xff;
  await writeFile(path, bytes);
}

function manager(dataDir: string, logger = silent): LogManager {
  return new LogManager({ dataDir, defaults: testConfig(), logger });
}

async function until(condition: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

describe('LogManager', () => {
  it('splits directory names on the last dash', () => {
    expect(parseLogDirName('my-topic.v2-12')).toEqual({ topic: 'my-topic.v2', partition: 12 });
    expect(parseLogDirName('orders-0.1a2b-delete')).toBeNull();
    expect(parseLogDirName('orders')).toBeNull();
    expect(parseLogDirName('bad topic-1')).toBeNull();
  });

  it('creates logs, finds them again after a restart, and marks a clean shutdown', async () => {
    const dataDir = await tempDir();
    const first = manager(dataDir);
    await first.open();
    const a = await first.getOrCreateLog('my-topic.v2', 12, 'id-a', testConfig());
    const b = await first.getOrCreateLog('other', 0, 'id-b', testConfig());
    await a.appendAsLeader(batch(), 0);
    await b.appendAsLeader(batch(), 0);
    await b.appendAsLeader(batch(), 0);
    expect(await first.getOrCreateLog('other', 0, 'id-b', testConfig({ retentionMs: 5 }))).toBe(b);
    expect(b.config.retentionMs).toBe(5);
    await first.close();
    expect(await readdir(dataDir)).toContain(CLEAN_SHUTDOWN_FILE);

    const second = manager(dataDir);
    await second.open();
    expect(await readdir(dataDir)).not.toContain(CLEAN_SHUTDOWN_FILE);
    expect(second.allLogs().map((l) => `${l.topic}/${l.partition}/${l.topicId}/${l.logEndOffset}`).sort()).toEqual(['my-topic.v2/12/id-a/3', 'other/0/id-b/6']);
    expect(offsetsIn(await second.getLog('other', 0)!.read(0, { maxBytes: 1 << 20 }))).toEqual([0, 1, 2, 3, 4, 5]);
    await second.close();
  });

  it('recovers logs when the clean-shutdown marker is missing', async () => {
    const dataDir = await tempDir();
    const first = manager(dataDir);
    await first.open();
    const log = await first.getOrCreateLog('t', 0, 'id', testConfig());
    for (let i = 0; i < 10; i++) await log.appendAsLeader(batch(), 0);
    await first.close();
    // Damage a batch in the middle of the active segment: only full validation notices it,
    // which a clean start skips (it checks the tail after the last index entry).
    const path = join(dataDir, 't-0', '00000000000000000000.log');
    const bytes = await readFile(path);
    bytes[2 * BATCH_SIZE + 40]! ^= 0xff;
    await writeFile(path, bytes);

    const clean = manager(dataDir);
    await clean.open();
    expect(clean.getLog('t', 0)!.logEndOffset).toBe(30);
    await clean.close();
    await rm(join(dataDir, CLEAN_SHUTDOWN_FILE)); // as if the broker had been killed

    const crashed = manager(dataDir);
    await crashed.open();
    expect(crashed.getLog('t', 0)!.logEndOffset).toBe(6);
    await crashed.close();
  });

  it('skips a directory it cannot load and keeps serving the others', async () => {
    const dataDir = await tempDir();
    const first = manager(dataDir);
    await first.open();
    await (await first.getOrCreateLog('good', 0, 'id', testConfig())).appendAsLeader(batch(), 0);
    await first.close();
    await mkdir(join(dataDir, 'broken-0', '00000000000000000000.log'), { recursive: true }); // a "segment" that is a directory
    await mkdir(join(dataDir, 'not a log dir'));
    const { logger, messages } = capturingLogger();
    const second = manager(dataDir, logger);
    await second.open();
    expect(second.getLog('broken', 0)).toBeUndefined();
    expect(second.getLog('good', 0)!.logEndOffset).toBe(3);
    expect(messages).toContain('cannot load partition log; skipping it');
    await second.close();
  });

  it('deletes the old log when a topic is re-created with a new id', async () => {
    const dataDir = await tempDir();
    const m = manager(dataDir);
    await m.open();
    const old = await m.getOrCreateLog('t', 0, 'old-id', testConfig());
    await old.appendAsLeader(batch(), 0);
    const fresh = await m.getOrCreateLog('t', 0, 'new-id', testConfig());
    expect(fresh).not.toBe(old);
    expect([fresh.topicId, fresh.logEndOffset]).toEqual(['new-id', 0]);
    await m.close();
    // Also when the old directory is found on disk at start-up rather than loaded.
    const again = manager(dataDir);
    await again.open();
    const newer = await again.getOrCreateLog('t', 0, 'newer-id', testConfig());
    expect(newer.logEndOffset).toBe(0);
    await again.close();
  });

  it('deletes a log and its directory, and cleans up interrupted deletions at start', async () => {
    const dataDir = await tempDir();
    const m = manager(dataDir);
    await m.open();
    await m.getOrCreateLog('t', 3, 'id', testConfig());
    await m.deleteLog('t', 3);
    expect(m.getLog('t', 3)).toBeUndefined();
    expect((await readdir(dataDir)).filter((n) => n.startsWith('t-3'))).toEqual([]);
    await m.close();
    await mkdir(join(dataDir, 't-4.abcd-delete'));
    const again = manager(dataDir);
    await again.open();
    expect(await readdir(dataDir)).not.toContain('t-4.abcd-delete');
    await again.close();
  });

  it('deletes nothing by retention from a log loaded at start until its topic config arrives', async () => {
    // A retention.ms=-1 topic whose broker restarts while the controller is unreachable: the
    // broker's 7-day default must not be applied to data the topic keeps forever.
    const dataDir = await tempDir();
    const clock = new ManualClock(1_000_000);
    const keepForever = testConfig({ segmentBytes: 500, retentionMs: -1 });
    const first = new LogManager({ dataDir, defaults: testConfig({ retentionMs: 1000 }), logger: silent, now: clock.now });
    await first.open();
    const log = await first.getOrCreateLog('audit', 0, 'id', keepForever);
    for (let i = 0; i < 20; i++) await log.appendAsLeader(batch({ timestamp: 1000 }), 0);
    log.setHighWatermark(log.logEndOffset);
    const segments = log.segmentCount;
    expect(segments).toBeGreaterThan(3);
    await first.close();

    clock.advance(30 * 24 * 3600 * 1000); // 30 days later, far past the defaults' retention
    const second = new LogManager({ dataDir, defaults: testConfig({ retentionMs: 1000 }), logger: silent, now: clock.now });
    await second.open();
    const reloaded = second.getLog('audit', 0)!;
    expect(await reloaded.enforceRetention()).toBe(0);
    expect(reloaded.segmentCount).toBe(segments);
    expect(reloaded.logStartOffset).toBe(0);
    expect(reloaded.configured).toBe(false);

    // Its real config arrives with the first metadata; retention then follows it.
    expect(await second.getOrCreateLog('audit', 0, 'id', keepForever)).toBe(reloaded);
    expect(reloaded.configured).toBe(true);
    expect(await reloaded.enforceRetention()).toBe(0);
    reloaded.updateConfig({ ...keepForever, retentionMs: 1000 });
    expect(await reloaded.enforceRetention()).toBe(segments - 1);
    await second.close();
  });

  it('recovers at the next start a log that failed to load after a crash, even after a clean shutdown', async () => {
    const dataDir = await tempDir();
    const first = manager(dataDir);
    await first.open();
    for (const topic of ['good', 'broken']) {
      const log = await first.getOrCreateLog(topic, 0, `id-${topic}`, testConfig());
      for (let i = 0; i < 10; i++) await log.appendAsLeader(batch(), 0);
    }
    await first.close();
    // The process crashes, leaving broken-0 with a damaged batch in its middle (which only full
    // recovery notices) and, for now, with something that keeps it from loading at all.
    await rm(join(dataDir, CLEAN_SHUTDOWN_FILE));
    await damageBatch(join(dataDir, 'broken-0', '00000000000000000000.log'), 2);
    // A dangling symlink as a segment: loading fails at its stat, before recovery touches anything.
    const blocker = join(dataDir, 'broken-0', '00000000000000000100.log');
    await symlink(join(dataDir, 'nowhere'), blocker);

    const second = manager(dataDir);
    await second.open();
    expect(second.getLog('broken', 0)).toBeUndefined();
    expect(second.getLog('good', 0)!.logEndOffset).toBe(30);
    await second.close();

    // The blocker is gone (an operator removed it); broken-0 was never recovered, so this start
    // must recover it although the previous one shut down cleanly. good-0 closed cleanly and is
    // trusted: damage that only full recovery would notice stays unnoticed.
    await rm(blocker);
    await damageBatch(join(dataDir, 'good-0', '00000000000000000000.log'), 2);
    const third = manager(dataDir);
    await third.open();
    expect(third.getLog('broken', 0)!.logEndOffset).toBe(6);
    expect(third.getLog('good', 0)!.logEndOffset).toBe(30);
    await third.close();
    expect(await readFile(join(dataDir, CLEAN_SHUTDOWN_FILE), 'utf8')).toBe('');
  });

  it('runs retention, flush.ms and HW checkpoints in the background', async () => {
    const dataDir = await tempDir();
    const m = manager(dataDir);
    await m.open();
    const log = await m.getOrCreateLog('t', 0, 'id', testConfig({ segmentBytes: 500, retentionMs: 1, flushMs: 0 }));
    for (let i = 0; i < 20; i++) await log.appendAsLeader(batch({ timestamp: 1000 }), 0);
    const segments = log.segmentCount;
    log.setHighWatermark(log.logEndOffset);
    m.startBackgroundTasks({ retentionCheckIntervalMs: 20, flushCheckIntervalMs: 20, highWatermarkCheckpointIntervalMs: 20 });
    await until(() => log.segmentCount === 1);
    expect(segments).toBeGreaterThan(3);
    expect(log.logStartOffset).toBe(log.segmentBaseOffsets()[0]);
    await until(() => log.recoveryPoint === log.logEndOffset);
    await until(async () => (await readFile(join(log.dir, 'log-offsets-checkpoint'), 'utf8')).includes(`high-watermark ${log.logEndOffset}\n`));
    await m.close();
  });
});
