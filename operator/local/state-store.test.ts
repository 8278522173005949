import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { allocateProducerIds, createTopic, registerBroker, type ClusterState } from '../core/cluster-state.ts';
import { decodeClusterState } from '../core/cluster-state-codec.ts';
import { BACKUP_FILE, CORRUPT_FILE, STATE_FILE, StateConflictError, StateLoadError, StateStore } from './state-store.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

async function freshDir(): Promise<string> {
  const d = await mkdtemp(path.join(tmpdir(), 'sluice-store-'));
  dirs.push(d);
  return d;
}

function grow(s: ClusterState): ClusterState {
  let next = registerBroker(s, { brokerId: 1, incarnationId: 'i', host: 'h', port: 1, rack: '' }).state;
  next = createTopic(next, { name: `t${next.metadataVersion}`, topicId: `id${next.metadataVersion}`, partitions: 1, replicationFactor: 1 }).state;
  return next;
}

describe('StateStore', () => {
  it('creates the data dir and a new cluster on first start, and resumes it afterwards', async () => {
    const dir = path.join(await freshDir(), 'nested', 'controller');
    const first = await new StateStore(dir).load(() => 'cluster-x');
    expect(first.origin).toBe('new');
    expect(first.state).toMatchObject({ clusterId: 'cluster-x', metadataVersion: 0 });
    const again = await new StateStore(dir).load(() => 'other');
    expect(again).toEqual({ state: first.state, origin: 'file' });
  });

  it('replaces the file on save, keeps the replaced state as the backup, and leaves no temporary file', async () => {
    const dir = await freshDir();
    const store = new StateStore(dir);
    const s0 = (await store.load(() => 'c')).state;
    const s1 = grow(s0);
    await store.save(s1, s0.metadataVersion);
    const s2 = allocateProducerIds(s1, { brokerId: 1, brokerEpoch: 1 }).state;
    await store.save(s2, s1.metadataVersion);
    expect(decodeClusterState(await readFile(path.join(dir, STATE_FILE), 'utf8'))).toEqual(s2);
    expect(decodeClusterState(await readFile(path.join(dir, BACKUP_FILE), 'utf8'))).toEqual(s1);
    expect((await readdir(dir)).sort()).toEqual([STATE_FILE, BACKUP_FILE].sort());
    expect((await new StateStore(dir).load(() => 'c')).state).toEqual(s2);
  });

  it('refuses a save based on a version other than the last one written (compare-and-set)', async () => {
    const dir = await freshDir();
    const store = new StateStore(dir);
    const s0 = (await store.load(() => 'c')).state;
    const s1 = grow(s0);
    await store.save(s1, 0);
    await expect(store.save(grow(s1), 0)).rejects.toBeInstanceOf(StateConflictError);
  });

  it('detects a second controller writing the same file', async () => {
    const dir = await freshDir();
    const a = new StateStore(dir);
    const b = new StateStore(dir);
    const s0 = (await a.load(() => 'c')).state;
    await b.load(() => 'c');
    await a.save(grow(s0), 0);
    const err = await b.save(grow(s0), 0).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateConflictError);
    expect((err as Error).message).toMatch(/changed under this controller \(expected version 0, found version 2\).*another controller/);
  });

  it('refuses to load a corrupt file without a backup, and never rewrites it', async () => {
    const dir = await freshDir();
    await writeFile(path.join(dir, STATE_FILE), '{"format":1,"state":{"clusterId":"c"}}');
    const err = await new StateStore(dir).load(() => 'new').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StateLoadError);
    expect((err as Error).message).toMatch(/is corrupt: \$\.state\.metadataVersion is undefined.*no backup.*Refusing to start/);
    expect(await readFile(path.join(dir, STATE_FILE), 'utf8')).toBe('{"format":1,"state":{"clusterId":"c"}}');
  });

  it('refuses when both the file and the backup are corrupt, naming both', async () => {
    const dir = await freshDir();
    await writeFile(path.join(dir, STATE_FILE), 'garbage');
    await writeFile(path.join(dir, BACKUP_FILE), '{}');
    await expect(new StateStore(dir).load(() => 'new')).rejects.toThrow(/controller-state.json is corrupt: not valid JSON.*backup .*controller-state.json.bak is corrupt too: \$.format is undefined/);
  });

  it('uses the backup when the file is corrupt or missing, past every counter, and keeps the corrupt copy aside', async () => {
    const dir = await freshDir();
    const store = new StateStore(dir);
    const s0 = (await store.load(() => 'c')).state;
    const s1 = grow(s0);
    await store.save(s1, 0);
    await store.save(grow(s1), s1.metadataVersion);
    await writeFile(path.join(dir, STATE_FILE), '{"format":1,"sta');

    const loaded = await new StateStore(dir).load(() => 'new');
    expect(loaded.origin).toBe('backup');
    expect(loaded.problem).toMatch(/is corrupt: not valid JSON/);
    expect(loaded.state.topics).toEqual(expect.arrayContaining([expect.objectContaining({ name: s1.topics[0]!.name })]));
    expect(loaded.state.metadataVersion).toBe(s1.metadataVersion + 2);
    expect(loaded.state.nextBrokerEpoch).toBe(s1.nextBrokerEpoch + 1);
    expect(await readFile(path.join(dir, CORRUPT_FILE), 'utf8')).toBe('{"format":1,"sta');
    // The recovered state is durable: the next start resumes it from the file.
    expect(await new StateStore(dir).load(() => 'new')).toEqual({ state: loaded.state, origin: 'file' });

    await rm(path.join(dir, STATE_FILE));
    const fromMissing = await new StateStore(dir).load(() => 'new');
    expect(fromMissing.origin).toBe('backup');
    expect(fromMissing.problem).toMatch(/is missing/);
  });
});
