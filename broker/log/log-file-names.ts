// Names of the files in a partition directory. Offsets are zero-padded to 20 digits (Kafka's
// layout), so lexical order is offset order and tools that know Kafka's layout read ours.
export const LOG_SUFFIX = '.log';
export const INDEX_SUFFIX = '.index';
export const TIME_INDEX_SUFFIX = '.timeindex';
export const SNAPSHOT_SUFFIX = '.snapshot';
/** Files of deleted segments are renamed first and unlinked later (after readers let go). */
export const DELETED_SUFFIX = '.deleted';
export const PARTITION_METADATA_FILE = 'partition.metadata';
export const OFFSETS_CHECKPOINT_FILE = 'log-offsets-checkpoint';

export function offsetFileName(offset: number, suffix: string): string {
  return String(offset).padStart(20, '0') + suffix;
}

/** The offset a file name encodes, or null when the name is not `<20 digits><suffix>`. */
export function parseOffsetFileName(name: string, suffix: string): number | null {
  if (!name.endsWith(suffix)) return null;
  const digits = name.slice(0, -suffix.length);
  if (!/^\d{20}$/.test(digits)) return null;
  const offset = Number(digits);
  return Number.isSafeInteger(offset) ? offset : null;
}
/** Suffix of a log directory being deleted (renamed first so a crash never leaves half a log). */
export const DELETE_DIR_SUFFIX = '-delete';
