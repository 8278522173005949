// A broker whose disk fills up (tests run as root: a 4 MiB tmpfs holds the broker's data dir).
// What a user must see: produce fails cleanly with STORAGE_ERROR (gRPC RESOURCE_EXHAUSTED) and
// writes nothing; the broker stays up, answers Metadata and serves earlier records unchanged;
// once space is freed, produce continues at the next offset with no gap and no duplicate.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { encodeRecordBatch } from '../common/record-batch.ts';
import { isSluiceError } from '../common/errors.ts';
import { Producer } from '../client/index.ts';
import { silentLogger } from '../common/logger.ts';
import { useTestCluster } from './support/cluster.ts';
import { RawBroker, refusalSummary, type PartitionContent } from './support/raw-grpc.ts';

// Tests print nothing on success; the client library's own warnings would.
const quiet = silentLogger();

const TOPIC = 'full-disk';
const TMPFS_SIZE = '4m';

const BASE_PREFIX = 'sluice-full-disk-';
const OWNER_FILE = 'owner.pid';

/**
 * A run killed before its afterAll (SIGKILL, a CI timeout) leaves its tmpfs mounted. Those are
 * unmounted here — only when the process that mounted them is gone, so a concurrent run of this
 * file is left alone.
 */
function unmountLeftovers(): void {
  const mounts = fs.readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1] ?? '');
  for (const mp of mounts) {
    const dir = path.dirname(mp);
    if (path.dirname(dir) !== os.tmpdir() || !path.basename(dir).startsWith(BASE_PREFIX) || path.basename(mp) !== 'disk') continue;
    try {
      const owner = Number(fs.readFileSync(path.join(dir, OWNER_FILE), 'utf8').trim());
      if (ownerAlive(owner)) continue;
      execFileSync('umount', ['-l', mp], { stdio: 'pipe' });
      fs.rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort: a leftover that cannot be judged or removed does not stop this run.
    }
  }
}

function ownerAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

// Only the broker's data dir is on the small file system. The controller's state and every
// process log stay on the normal disk, so a full disk hits the broker's storage and nothing
// else (a log write failing with ENOSPC would test the logger, not the broker).
let base = '';
let mountPoint = '';
let brokerDataDir = '';
let fillerFile = '';
let mounted = false;

const getCluster = useTestCluster(
  // A repeated flag wins over the first: this --data-dir replaces the one EmbeddedCluster passes.
  () => ({ brokers: 1, dataDir: path.join(base, 'cluster'), brokerArgs: ['--data-dir', brokerDataDir] }),
  {
    beforeStart: () => {
      unmountLeftovers();
      base = fs.mkdtempSync(path.join(os.tmpdir(), BASE_PREFIX));
      fs.writeFileSync(path.join(base, OWNER_FILE), String(process.pid));
      mountPoint = path.join(base, 'disk');
      brokerDataDir = path.join(mountPoint, 'broker-0');
      fillerFile = path.join(mountPoint, 'filler');
      fs.mkdirSync(mountPoint, { recursive: true });
      execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${TMPFS_SIZE}`, 'tmpfs', mountPoint], { stdio: 'pipe' });
      mounted = true;
    },
    afterStop: () => {
      if (mounted) {
        try {
          execFileSync('umount', [mountPoint], { stdio: 'pipe' });
        } catch {
          // Something still holds a file open there; detach it so the mount cannot outlive the test.
          execFileSync('umount', ['-l', mountPoint], { stdio: 'pipe' });
        }
        mounted = false;
      }
      if (base) fs.rmSync(base, { recursive: true, force: true });
    },
  },
);

let raw: RawBroker;
let before: PartitionContent;

function records(prefix: string, count: number, valueBytes: number): Buffer {
  // Random values: nothing on the way (compression) can make them smaller than the disk needs.
  return encodeRecordBatch(Array.from({ length: count }, (_, i) => ({ key: Buffer.from(`${prefix}-${i}`), value: randomBytes(valueBytes) })));
}

/** Writes the filler file until the file system refuses another byte; returns its size. */
function fillTheDisk(): number {
  const fd = fs.openSync(fillerFile, 'w');
  let written = 0;
  try {
    for (const chunk of [1 << 16, 1 << 12, 1 << 9, 1]) {
      const buf = Buffer.alloc(chunk, 0x5a);
      for (;;) {
        try {
          const n = fs.writeSync(fd, buf);
          written += n;
          if (n < chunk) break;
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code !== 'ENOSPC') throw err;
          break;
        }
      }
    }
  } finally {
    fs.closeSync(fd);
  }
  return written;
}

beforeAll(async () => {
  raw = new RawBroker(getCluster().brokerAddress());
  await raw.createTopic({ name: TOPIC, partitions: 1, replication_factor: 1 });
  await raw.waitForLeaders(TOPIC, 1);
  for (let i = 0; i < 5; i++) await raw.produceOk(TOPIC, 0, records(`before-${i}`, 4, 256));
  before = await raw.readAll(TOPIC, 0);
  expect(before.highWatermark).toBe(20);
  // Without this the test would fill a disk the broker does not write to.
  const partitionDir = path.join(brokerDataDir, `${TOPIC}-0`);
  if (!fs.existsSync(partitionDir)) throw new Error(`the broker did not take --data-dir ${brokerDataDir}: ${partitionDir} does not exist`);
}, 30_000);

afterAll(() => {
  raw?.close();
}, 5_000);

describe('a broker on a full disk', () => {
  it('refuses produce with STORAGE_ERROR and writes nothing', async () => {
    const filled = fillTheDisk();
    expect(filled).toBeGreaterThan(0);
    for (let attempt = 0; attempt < 3; attempt++) {
      const r = await raw.produceFailure({ topic: TOPIC, partition: 0, acks: 'ACKS_ALL', records: records(`full-${attempt}`, 4, 16 * 1024) }, 'produce on a full disk');
      // A unary Produce that wrote nothing failed as a whole: status plus trailer (common.proto).
      expect({ ...refusalSummary(r), via: r.via }, `refusal message: ${r.message}`)
        .toEqual({ code: 'STORAGE_ERROR', grpc: 'RESOURCE_EXHAUSTED', hasMessage: true, hasDetailTrailer: true, via: 'status' });
    }
    // The client library reports the same to the application.
    const producer = new Producer({ bootstrapServers: getCluster().bootstrapServers, acks: 'all', retries: 0, requestTimeoutMs: 4_000, deliveryTimeoutMs: 5_000, logger: quiet });
    await producer.connect();
    try {
      const err = await producer.send({ topic: TOPIC, partition: 0, value: randomBytes(32 * 1024) }).then(() => null, (e: unknown) => e);
      expect(isSluiceError(err) ? err.code : err).toBe('STORAGE_ERROR');
    } finally {
      await producer.close();
    }
    expect(await raw.offsets(TOPIC, 0)).toEqual({ earliest: 0, latest: before.highWatermark });
  }, 30_000);

  it('stays up, answers Metadata and serves the earlier records unchanged', async () => {
    const cluster = getCluster();
    expect(cluster.brokerProcessAlive(0), cluster.describeCrashes() || 'the broker process is gone').toBe(true);
    expect(cluster.unexpectedExits).toEqual([]);
    const md = await raw.metadata([TOPIC]);
    expect(md.topics.map((t) => ({ name: t.name, leaders: t.partitions.map((p) => p.leader_id) }))).toEqual([{ name: TOPIC, leaders: [0] }]);
    const now = await raw.readAll(TOPIC, 0);
    expect(now.batches.map((b) => b.bytes)).toEqual(before.batches.map((b) => b.bytes));
    expect(now.highWatermark).toBe(before.highWatermark);
  }, 20_000);

  it('continues at the next offset, with no gap or duplicate, once space is freed', async () => {
    fs.rmSync(fillerFile);
    const batch = records('after', 4, 256);
    const res = await raw.produceOk(TOPIC, 0, batch);
    expect(Number(res.base_offset)).toBe(before.highWatermark);
    const second = await raw.produceOk(TOPIC, 0, records('after-2', 2, 256));
    expect(Number(second.base_offset)).toBe(before.highWatermark + 4);

    const now = await raw.readAll(TOPIC, 0);
    expect(now.records.map((r) => r.offset)).toEqual(Array.from({ length: before.highWatermark + 6 }, (_, i) => i));
    expect(now.records.map((r) => r.key?.toString())).toEqual([
      ...before.records.map((r) => r.key?.toString()),
      'after-0', 'after-1', 'after-2', 'after-3', 'after-2-0', 'after-2-1',
    ]);
    expect(now.batches.slice(0, before.batches.length).map((b) => b.bytes)).toEqual(before.batches.map((b) => b.bytes));
    expect(getCluster().brokerProcessAlive(0)).toBe(true);
  }, 20_000);
});
