// Producer state snapshot files `<offset>.snapshot`: the state after every batch below
// `offset`. Written when a segment rolls and on clean close; after a restart the newest
// readable one at or below the log end is loaded and the rest is replayed from batch headers.
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { writeFileAtomically } from './checkpoint-file.ts';
import { SNAPSHOT_SUFFIX, offsetFileName, parseOffsetFileName } from './log-file-names.ts';
import { decodeProducerSnapshot, encodeProducerSnapshot, type ProducerEntry } from './producer-state.ts';

export class ProducerSnapshots {
  readonly dir: string;
  readonly #logger: Logger;

  constructor(dir: string, logger: Logger) {
    this.dir = dir;
    this.#logger = logger;
  }

  path(offset: number): string {
    return join(this.dir, offsetFileName(offset, SNAPSHOT_SUFFIX));
  }

  /** Offsets of the snapshot files present, ascending. */
  async offsets(): Promise<number[]> {
    const names = await readdir(this.dir);
    const offsets: number[] = [];
    for (const name of names) {
      const offset = parseOffsetFileName(name, SNAPSHOT_SUFFIX);
      if (offset !== null) offsets.push(offset);
    }
    return offsets.sort((a, b) => a - b);
  }

  async write(offset: number, entries: readonly ProducerEntry[]): Promise<void> {
    await writeFileAtomically(this.path(offset), encodeProducerSnapshot(offset, entries));
  }

  /**
   * The newest snapshot at or below maxOffset that decodes. A damaged one is logged and
   * deleted (it would otherwise be tried again on every start), then the next older is tried.
   */
  async loadNewest(maxOffset: number): Promise<{ offset: number; entries: ProducerEntry[] } | null> {
    const candidates = (await this.offsets()).filter((o) => o <= maxOffset).reverse();
    for (const offset of candidates) {
      const path = this.path(offset);
      try {
        return { offset, entries: decodeProducerSnapshot(await readFile(path), offset, path) };
      } catch (err) {
        this.#logger.warn({ err, path }, 'producer snapshot is unreadable; deleting it and trying an older one');
        await rm(path, { force: true });
      }
    }
    return null;
  }

  /** Removes snapshots taken above `offset` (the log was truncated below them). */
  async deleteAbove(offset: number): Promise<void> {
    for (const o of await this.offsets()) {
      if (o > offset) await rm(this.path(o), { force: true });
    }
  }

  /**
   * Removes snapshots taken strictly between two offsets: those of earlier clean closes inside
   * the active segment, superseded by a newer one, which would otherwise pile up with restarts.
   */
  async deleteBetween(low: number, high: number): Promise<void> {
    for (const o of await this.offsets()) {
      if (o > low && o < high) await rm(this.path(o), { force: true });
    }
  }

  /** Removes snapshots taken below `offset` (their segments were deleted by retention). */
  async deleteBelow(offset: number): Promise<void> {
    for (const o of await this.offsets()) {
      if (o < offset) await rm(this.path(o), { force: true });
    }
  }
}
