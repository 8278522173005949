import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.ts';
import { SluiceError } from '../../common/errors.ts';
import { allocateProducerIds, createTopic, initialClusterState, registerBroker, type ClusterState } from '../core/cluster-state.ts';
import { decodeClusterState } from '../core/cluster-state-codec.ts';
import { CommittedState } from './committed-state.ts';
import { StateConflictError, StateStore, StateWriteError, type StatePersister } from './state-store.ts';

const dirs: string[] = [];
afterEach(async () => {
  for (const d of dirs.splice(0)) await rm(d, { recursive: true, force: true });
});

const withBroker = (s: ClusterState) => registerBroker(s, { brokerId: 1, incarnationId: 'i', host: 'h', port: 1, rack: '' });
const allocate = (s: ClusterState) => allocateProducerIds(s, { brokerId: 1, brokerEpoch: 1 });

/** A persister test double whose next save fails as told. */
class FailingPersister implements StatePersister {
  failure: Error | undefined;
  saved: number[] = [];
  async save(next: ClusterState): Promise<void> {
    const f = this.failure;
    this.failure = undefined;
    if (f) throw f;
    this.saved.push(next.metadataVersion);
  }
}

describe('CommittedState', () => {
  it('persists a change before any listener hears of it and before the caller is answered', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'sluice-commit-'));
    dirs.push(dir);
    const store = new StateStore(dir);
    const committed = new CommittedState(store, (await store.load(() => 'c')).state, silentLogger());
    const onDiskWhenHeard: number[] = [];
    committed.onChange((c) => onDiskWhenHeard.push(decodeClusterState(readFileSync(store.file, 'utf8')).metadataVersion, c.state.metadataVersion));
    const record = await committed.commit(withBroker);
    expect(record.brokerEpoch).toBe(1);
    expect(onDiskWhenHeard).toEqual([1, 1]);
    expect(decodeClusterState(readFileSync(store.file, 'utf8'))).toEqual(committed.current);
  });

  it('runs concurrent changes one after another, each on the result of the one before', async () => {
    const persister = new FailingPersister();
    const committed = new CommittedState(persister, withBroker(initialClusterState('c')).state, silentLogger());
    const blocks = await Promise.all([committed.commit(allocate), committed.commit(allocate), committed.commit(allocate)]);
    expect(blocks.map((b) => b.firstProducerId)).toEqual([1, 1001, 2001]);
    expect(persister.saved).toEqual([2, 3, 4]);
  });

  it('leaves the state as it was when the transition refuses, and keeps serving', async () => {
    const committed = new CommittedState(new FailingPersister(), initialClusterState('c'), silentLogger());
    const heard: unknown[] = [];
    committed.onChange((c) => heard.push(c));
    await expect(committed.commit((s) => createTopic(s, { name: 'x', topicId: 'x', partitions: 1, replicationFactor: 1 }))).rejects.toMatchObject({ code: 'INVALID_REPLICATION_FACTOR' });
    expect(committed.current.metadataVersion).toBe(0);
    expect(heard).toEqual([]);
    await expect(committed.commit(withBroker)).resolves.toMatchObject({ id: 1 });
  });

  it('answers an unchanged outcome without writing or notifying, but still runs the after-step', async () => {
    const persister = new FailingPersister();
    const committed = new CommittedState(persister, withBroker(initialClusterState('c')).state, silentLogger());
    let after: ClusterState | undefined;
    await committed.commit(withBroker, (_r, s) => (after = s));
    expect(persister.saved).toEqual([]);
    expect(after).toBe(committed.current);
  });

  it('refuses a change the file did not take, and carries on with the next one', async () => {
    const persister = new FailingPersister();
    const committed = new CommittedState(persister, initialClusterState('c'), silentLogger());
    persister.failure = new StateWriteError('disk full', 'unchanged', new Error('ENOSPC'));
    const err = await committed.commit(withBroker).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SluiceError);
    expect((err as SluiceError).code).toBe('STORAGE_ERROR');
    expect((err as SluiceError).message).toMatch(/nothing changed: disk full/);
    expect(committed.current.brokers).toEqual([]);
    expect(committed.healthy).toBe(true);
    await expect(committed.commit(withBroker)).resolves.toMatchObject({ id: 1 });
  });

  it('refuses every further change once the file may hold a change memory does not', async () => {
    const persister = new FailingPersister();
    const committed = new CommittedState(persister, initialClusterState('c'), silentLogger());
    persister.failure = new StateWriteError('rename failed', 'unknown', new Error('EIO'));
    await expect(committed.commit(withBroker)).rejects.toMatchObject({ code: 'STORAGE_ERROR' });
    expect(committed.healthy).toBe(false);
    await expect(committed.commit(withBroker)).rejects.toMatchObject({ code: 'STORAGE_ERROR', message: expect.stringMatching(/restart the controller/) });
    expect(persister.saved).toEqual([]);
  });

  it('stands down with NOT_CONTROLLER when another writer owns the file', async () => {
    const persister = new FailingPersister();
    const committed = new CommittedState(persister, initialClusterState('c'), silentLogger());
    persister.failure = new StateConflictError('file changed under this controller');
    await expect(committed.commit(withBroker)).rejects.toMatchObject({ code: 'NOT_CONTROLLER' });
    expect(committed.healthy).toBe(false);
  });

  it('idle() waits for every queued change', async () => {
    const persister = new FailingPersister();
    const committed = new CommittedState(persister, withBroker(initialClusterState('c')).state, silentLogger());
    void committed.commit(allocate);
    void committed.commit(allocate);
    await committed.idle();
    expect(persister.saved).toEqual([2, 3]);
  });
});
