// Parsers for command-line values. Each one either returns a typed value or throws a
// UsageError that names the option and says what it accepts, so a bad flag ends with exit
// code 2 before anything is sent to the cluster.
import { SluiceError } from '../../common/errors.ts';
import { parseTopicConfig, type TopicConfig } from '../../common/topic-config.ts';
import { UsageError } from './cli-errors.ts';

export const DEFAULT_BOOTSTRAP_SERVERS = '127.0.0.1:9092';
export const BOOTSTRAP_ENV = 'SLUICE_BOOTSTRAP_SERVERS';

export type OutputFormat = 'text' | 'json';
export type AcksOption = 'all' | 1 | 0;
export const COMPRESSIONS = ['none', 'gzip', 'zstd'] as const;
export type CompressionOption = (typeof COMPRESSIONS)[number];

export function parseInteger(option: string, raw: string, range: { min?: number; max?: number } = {}): number {
  const value = /^-?\d+$/.test(raw.trim()) ? Number(raw.trim()) : Number.NaN;
  const { min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER } = range;
  if (!Number.isSafeInteger(value) || value < min || value > max) {
    throw new UsageError(`${option} must be a whole number from ${min} to ${max} (got "${raw}")`);
  }
  return value;
}

/** `host:port[,host:port…]`, from the flag, else the environment, else the local default. */
export function resolveBootstrapServers(flag: string | undefined, env: Record<string, string | undefined>): string[] {
  const raw = flag ?? env[BOOTSTRAP_ENV] ?? DEFAULT_BOOTSTRAP_SERVERS;
  const source = flag !== undefined ? '--bootstrap-server' : env[BOOTSTRAP_ENV] !== undefined ? BOOTSTRAP_ENV : 'the default';
  const servers = raw.split(',').map((s) => s.trim()).filter((s) => s.length > 0);
  if (servers.length === 0) throw new UsageError(`${source} is empty; give HOST:PORT[,HOST:PORT…]`);
  for (const server of servers) {
    const m = /^(\[[0-9a-fA-F:.]+\]|[^\s:/\[\]]+):(\d+)$/.exec(server);
    const port = m ? Number(m[2]) : 0;
    if (!m || port < 1 || port > 65_535) {
      throw new UsageError(`${source}: "${server}" is not HOST:PORT with a port from 1 to 65535`);
    }
  }
  return servers;
}

export function parseOutputFormat(raw: string): OutputFormat {
  if (raw === 'text' || raw === 'json') return raw;
  throw new UsageError(`--output must be text or json (got "${raw}")`);
}

export function parseAcks(raw: string): AcksOption {
  if (raw === 'all' || raw === '-1') return 'all';
  if (raw === '1') return 1;
  if (raw === '0') return 0;
  throw new UsageError(`--acks must be all, 1 or 0 (got "${raw}")`);
}

export function parseCompression(raw: string): CompressionOption {
  const found = COMPRESSIONS.find((c) => c === raw);
  if (!found) throw new UsageError(`--compression must be one of ${COMPRESSIONS.join(', ')} (got "${raw}")`);
  return found;
}

/**
 * `--config k=v`, repeatable; also `k1=v1,k2=v2` in one flag as kafka-configs accepts.
 * Values are checked against the topic config schema here, so a typo in a key never reaches
 * the controller.
 */
export function parseConfigPairs(pairs: readonly string[]): { raw: Record<string, string>; typed: Partial<TopicConfig> } {
  const raw: Record<string, string> = {};
  for (const pair of pairs.flatMap(splitConfigList)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new UsageError(`--config expects KEY=VALUE (got "${pair}")`);
    const key = pair.slice(0, eq).trim();
    if (Object.hasOwn(raw, key)) throw new UsageError(`--config ${key} is given twice`);
    raw[key] = pair.slice(eq + 1).trim();
  }
  try {
    return { raw, typed: parseTopicConfig(raw) };
  } catch (err) {
    if (err instanceof SluiceError) throw new UsageError(`--config: ${err.message}`);
    throw err;
  }
}

// cleanup.policy's own value "compact,delete" contains a comma, so split only where the next
// piece starts a new key.
function splitConfigList(flag: string): string[] {
  const out: string[] = [];
  for (const piece of flag.split(',')) {
    if (out.length > 0 && !piece.includes('=')) out[out.length - 1] += `,${piece}`;
    else out.push(piece);
  }
  return out;
}

/** `--from-timestamp`: milliseconds since the epoch, or an ISO-8601 date/time. */
export function parseTimestamp(raw: string): number {
  const s = raw.trim();
  if (/^\d+$/.test(s)) return Number(s);
  // Date.parse accepts loose formats ("March 7") whose meaning depends on the host; insist on
  // something that starts like ISO-8601 so a script's timestamp means the same everywhere.
  const ms = /^\d{4}-\d{2}-\d{2}/.test(s) ? Date.parse(s) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(`--from-timestamp must be milliseconds since the epoch or an ISO-8601 time like 2025-01-31T12:00:00Z (got "${raw}")`);
  }
  return ms;
}

/** `--offset`: a number, or earliest/latest as kafka-console-consumer accepts. */
export function parseStartOffset(raw: string): number | 'earliest' | 'latest' {
  if (raw === 'earliest' || raw === 'latest') return raw;
  return parseInteger('--offset', raw, { min: 0 });
}

/** Commander's argParser for repeatable options. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
