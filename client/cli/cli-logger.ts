// What the client library logs while a command runs, for a person at a terminal: one plain line
// per event on stderr (`sluice: warn: … [topic=orders partition=3 code=NOT_LEADER]`), warnings and
// worse by default, rather than the library's JSON lines. SLUICE_LOG_LEVEL=info (or debug)
// shows more.
import { pino } from 'pino';
import type { Logger } from '../../common/logger.ts';

/** Context fields worth showing on the line, in this order. */
const SHOWN_FIELDS = ['topic', 'partition', 'offset', 'broker', 'records', 'inFlight', 'reason', 'code'];

export function formatCliLogLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `sluice: ${line.trim()}\n`;
  }
  const level = pino.levels.labels[Number(entry.level)] ?? 'log';
  const context = SHOWN_FIELDS.filter((k) => entry[k] !== undefined).map((k) => `${k}=${String(entry[k])}`);
  const err = entry.err as { message?: unknown } | undefined;
  if (err?.message !== undefined) context.push(`error=${String(err.message)}`);
  return `sluice: ${level}: ${String(entry.msg ?? '')}${context.length > 0 ? ` [${context.join(' ')}]` : ''}\n`;
}

/** A logger writing formatted lines to `write`. */
export function createCliLogger(write: (text: string) => void, level = process.env.SLUICE_LOG_LEVEL ?? 'warn'): Logger {
  return pino({ level, base: undefined, timestamp: false }, { write: (line: string) => write(formatCliLogLine(line)) });
}

let shared: Logger | undefined;

/** The command's logger: one per process, on stderr. */
export function cliLogger(): Logger {
  shared ??= createCliLogger((text) => process.stderr.write(text));
  return shared;
}
