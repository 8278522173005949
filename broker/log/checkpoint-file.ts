// Small metadata files of a partition log (epochs, offsets, topic id, producer snapshots,
// sealed indexes). They are replaced atomically, so after a crash a reader finds either the
// old or the new content, never a torn mix: write a tmp file, fsync it, rename it over the
// target, fsync the directory (without the last step the rename itself may not survive a
// power loss on ext4/xfs).
import { open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { SluiceError } from '../../common/errors.ts';

export const TMP_SUFFIX = '.tmp';

export async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function writeFileAtomically(path: string, data: string | Uint8Array): Promise<void> {
  const tmp = path + TMP_SUFFIX;
  try {
    const handle = await open(tmp, 'w');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(tmp, path);
  } catch (err) {
    // A half-written tmp file would hold disk space that a full disk needs back.
    await rm(tmp, { force: true }).catch(() => undefined);
    throw err;
  }
  await fsyncDirectory(dirname(path));
}

/** Kafka's checkpoint layout: a version line, an entry count line, then one entry per line. */
export function encodeCheckpoint(version: number, entries: readonly string[]): string {
  return `${version}\n${entries.length}\n${entries.map((e) => e + '\n').join('')}`;
}

export function corruptFile(path: string, problem: string): SluiceError {
  return new SluiceError('STORAGE_ERROR', `${path} is corrupt: ${problem}`);
}

/** Parses encodeCheckpoint's output; anything else is STORAGE_ERROR (callers log it and rebuild). */
export function parseCheckpoint(text: string, version: number, path: string): string[] {
  const lines = text.split('\n');
  if (lines.at(-1) === '') lines.pop();
  if (lines.length < 2) throw corruptFile(path, `${lines.length} lines, expected a version and a count line`);
  if (lines[0] !== String(version)) throw corruptFile(path, `version line is ${JSON.stringify(lines[0]!.slice(0, 40))}, expected ${version}`);
  const countLine = lines[1]!;
  if (!/^\d{1,9}$/.test(countLine)) throw corruptFile(path, `count line is ${JSON.stringify(countLine.slice(0, 40))}`);
  const count = Number(countLine);
  const entries = lines.slice(2);
  if (entries.length !== count) throw corruptFile(path, `declares ${count} entries but holds ${entries.length}`);
  return entries;
}

/** Parses a non-negative (or -1) decimal integer field of a checkpoint entry. */
export function parseOffsetField(field: string | undefined, path: string, what: string): number {
  if (field === undefined || !/^-?\d{1,16}$/.test(field)) throw corruptFile(path, `${what} is ${JSON.stringify(field?.slice(0, 40))}, not an integer`);
  const value = Number(field);
  if (!Number.isSafeInteger(value) || value < -1) throw corruptFile(path, `${what} ${value} is out of range`);
  return value;
}

/**
 * One checkpoint file with its writes serialized (they share one tmp name) and coalesced: while
 * a write is in flight only the newest requested content is written next, so a burst of
 * updates costs at most two fsync rounds.
 */
export class CheckpointFile {
  readonly path: string;
  readonly version: number;
  #latest: readonly string[] = [];
  #queued: Promise<void> | null = null;
  #tail: Promise<void> = Promise.resolve();

  constructor(path: string, version: number) {
    this.path = path;
    this.version = version;
  }

  /** Resolves once content at least as new as `entries` is durable; rejects if that write failed. */
  write(entries: readonly string[]): Promise<void> {
    this.#latest = entries;
    if (this.#queued === null) {
      const run = this.#tail.then(() => {
        this.#queued = null;
        return writeFileAtomically(this.path, encodeCheckpoint(this.version, this.#latest));
      });
      this.#queued = run;
      this.#tail = run.catch(() => undefined);
    }
    return this.#queued;
  }

  /** Entries, or null when the file does not exist. Throws STORAGE_ERROR when it is not a valid checkpoint. */
  async read(): Promise<string[] | null> {
    let text: string;
    try {
      const handle = await open(this.path, 'r');
      try {
        text = await handle.readFile('utf8');
      } finally {
        await handle.close();
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw err;
    }
    return parseCheckpoint(text, this.version, this.path);
  }

  /** Waits for every write requested so far (successful or not). */
  async settle(): Promise<void> {
    await this.#tail;
  }
}
