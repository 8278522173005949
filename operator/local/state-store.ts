// The local controller's durable state: DATA_DIR/controller-state.json, replaced atomically on
// every change (write a temporary file, fsync it, rename it over the old one, fsync the
// directory), with the previous good copy kept as controller-state.json.bak.
//
// Loading never resets silently. A controller that started over would hand out broker epochs,
// leader epochs and producer ids that were already used, and brokers would trust them.
import { constants as fsConstants } from 'node:fs';
import { copyFile, mkdir, open, readFile, rename } from 'node:fs/promises';
import path from 'node:path';
import { initialClusterState, skipPastLostChange, type ClusterState } from '../core/cluster-state.ts';
import { decodeClusterState, encodeClusterState } from '../core/cluster-state-codec.ts';

export const STATE_FILE = 'controller-state.json';
export const BACKUP_FILE = 'controller-state.json.bak';
/** Where a corrupt state file is moved aside (kept for inspection, never read). */
export const CORRUPT_FILE = 'controller-state.json.corrupt';

/** The state file could not be read into a usable state; the controller must not start. */
export class StateLoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateLoadError';
  }
}

/** Saving failed. `diskState` says whether the file surely still holds the previous state. */
export class StateWriteError extends Error {
  readonly diskState: 'unchanged' | 'unknown';

  constructor(message: string, diskState: 'unchanged' | 'unknown', cause: unknown) {
    super(message, { cause });
    this.name = 'StateWriteError';
    this.diskState = diskState;
  }
}

/** The file changed under us: another controller writes to the same data dir. */
export class StateConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StateConflictError';
  }
}

export interface LoadedState {
  readonly state: ClusterState;
  /** file: resumed; new: first start; backup: the state file was unusable and the backup was used. */
  readonly origin: 'file' | 'new' | 'backup';
  /** For origin 'backup': what was wrong with the state file. */
  readonly problem?: string;
}

/** What the commit queue needs from a store; tests substitute failing ones. */
export interface StatePersister {
  save(next: ClusterState, expectedVersion: number): Promise<void>;
}

export class StateStore implements StatePersister {
  readonly dataDir: string;
  readonly file: string;
  readonly backupFile: string;
  /** Text of the state file as last read or written: the compare-and-set reference. */
  #text: string | undefined;
  #version: number | undefined;

  constructor(dataDir: string) {
    this.dataDir = path.resolve(dataDir);
    this.file = path.join(this.dataDir, STATE_FILE);
    this.backupFile = path.join(this.dataDir, BACKUP_FILE);
  }

  /**
   * Reads the state; on first start (no file, no backup) creates one with a new cluster id.
   * Throws StateLoadError when neither the file nor the backup is usable.
   */
  async load(newClusterId: () => string): Promise<LoadedState> {
    await mkdir(this.dataDir, { recursive: true });
    const main = await readIfPresent(this.file);
    let problem: string;
    if (main !== undefined) {
      try {
        const state = decodeClusterState(main);
        this.#remember(main, state);
        return { state, origin: 'file' };
      } catch (e) {
        problem = `${this.file} is corrupt: ${(e as Error).message}`;
      }
    } else {
      problem = `${this.file} is missing`;
    }

    const backup = await readIfPresent(this.backupFile);
    if (main === undefined && backup === undefined) {
      const state = initialClusterState(newClusterId());
      await this.#replace(state);
      return { state, origin: 'new' };
    }
    if (backup === undefined) {
      throw new StateLoadError(
        `${problem}, and there is no backup (${this.backupFile}). Refusing to start: a controller that started over would reuse broker epochs, leader epochs and producer ids. ` +
          `Restore the file from a copy, or, to start a new empty cluster (every topic is forgotten), move ${this.dataDir} away and wipe the brokers' data dirs.`,
      );
    }
    let previous: ClusterState;
    try {
      previous = decodeClusterState(backup);
    } catch (e) {
      throw new StateLoadError(
        `${problem}, and the backup ${this.backupFile} is corrupt too: ${(e as Error).message}. Refusing to start: a controller that started over would reuse broker epochs, leader epochs and producer ids. ` +
          `Restore one of the files from a copy, or, to start a new empty cluster (every topic is forgotten), move ${this.dataDir} away and wipe the brokers' data dirs.`,
      );
    }
    // The backup is the state before the last change, which brokers may already have acted on.
    const recovered = skipPastLostChange(previous);
    if (main !== undefined) await copyFile(this.file, path.join(this.dataDir, CORRUPT_FILE));
    // Written without touching the backup: the corrupt file must never become the "previous
    // good copy".
    await this.#replace(recovered);
    return { state: recovered, origin: 'backup', problem };
  }

  /**
   * Persists `next` if the file still holds version `expectedVersion` (compare-and-set), keeping
   * the replaced state as the backup. Resolves only once the change is durable.
   */
  async save(next: ClusterState, expectedVersion: number): Promise<void> {
    if (this.#text === undefined || this.#version === undefined) throw new Error('StateStore.save before load');
    if (this.#version !== expectedVersion) {
      throw new StateConflictError(`state version ${expectedVersion} was expected, but this controller last wrote version ${this.#version}`);
    }
    if (next.metadataVersion <= expectedVersion) {
      throw new Error(`a change must raise the metadata version (from ${expectedVersion}, got ${next.metadataVersion})`);
    }
    let onDisk: string | undefined;
    try {
      onDisk = await readIfPresent(this.file);
    } catch (e) {
      throw new StateWriteError(`cannot read ${this.file}: ${(e as Error).message}`, 'unchanged', e);
    }
    if (onDisk !== this.#text) {
      throw new StateConflictError(
        `${this.file} changed under this controller (expected version ${expectedVersion}, found ${describeVersion(onDisk)}): is another controller using ${this.dataDir}?`,
      );
    }
    try {
      await writeAtomically(this.backupFile, this.#text);
    } catch (e) {
      throw new StateWriteError(`cannot write ${this.backupFile}: ${(e as Error).message}`, 'unchanged', e);
    }
    await this.#replace(next);
  }

  async #replace(state: ClusterState): Promise<void> {
    const text = encodeClusterState(state);
    await writeAtomically(this.file, text);
    this.#remember(text, state);
  }

  #remember(text: string, state: ClusterState): void {
    this.#text = text;
    this.#version = state.metadataVersion;
  }
}

async function readIfPresent(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw e;
  }
}

/**
 * Replaces `target` with `text` so that a crash at any point leaves either the old or the new
 * content, never a mix, and the new content survives power loss once this resolves.
 */
async function writeAtomically(target: string, text: string): Promise<void> {
  const tmp = `${target}.tmp`;
  try {
    const fh = await open(tmp, fsConstants.O_WRONLY | fsConstants.O_CREAT | fsConstants.O_TRUNC, 0o644);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw new StateWriteError(`cannot write ${tmp}: ${(e as Error).message}`, 'unchanged', e);
  }
  try {
    await rename(tmp, target);
    // The rename lives in the directory; without this fsync it may be lost on power failure.
    const dir = await open(path.dirname(target), 'r');
    try {
      await dir.sync();
    } finally {
      await dir.close();
    }
  } catch (e) {
    throw new StateWriteError(`cannot replace ${target}: ${(e as Error).message}`, 'unknown', e);
  }
}

function describeVersion(text: string | undefined): string {
  if (text === undefined) return 'no file';
  try {
    return `version ${JSON.stringify((JSON.parse(text) as { state?: { metadataVersion?: unknown } }).state?.metadataVersion)}`;
  } catch {
    return 'an unreadable file';
  }
}
