// Exit codes and failure messages of the `sluice` CLI. Scripts branch on the exit code, humans
// read the message: it names the Sluice error code and says what to do next.
import { SluiceError, isErrorCode, type ErrorCode } from '../../common/errors.ts';

export const EXIT_OK = 0;
/** The operation was tried and failed (the cluster refused it, a record was not acked, …). */
export const EXIT_FAILED = 1;
/** The command line itself is wrong: nothing was sent to the cluster. */
export const EXIT_USAGE = 2;

/** A command line that cannot be run as given; maps to exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

const HINTS: Partial<Record<ErrorCode, string>> = {
  UNKNOWN_TOPIC_OR_PARTITION: 'check the topic name and its partition count with `sluice topic list`, or create the topic with `sluice topic create NAME --partitions N`',
  TOPIC_ALREADY_EXISTS: 'see it with `sluice topic describe NAME`; change it with `sluice topic alter`, or use `sluice apply -f` to create-or-update',
  INVALID_TOPIC: 'topic names are 1-249 characters from [a-zA-Z0-9._-]',
  INVALID_PARTITIONS: 'partition counts are whole numbers from 1 to 10000, and a topic\'s partition count can only grow',
  INVALID_REPLICATION_FACTOR: 'the replication factor must be from 1 to the number of live brokers; see `sluice cluster describe`',
  INVALID_CONFIG: 'the known keys and their ranges are listed by `sluice topic create --help`',
  BROKER_NOT_AVAILABLE: 'is a cluster running there? Start one with `sluice dev`, or point --bootstrap-server (or SLUICE_BOOTSTRAP_SERVERS) at a broker',
  LEADER_NOT_AVAILABLE: 'a leader election is probably in progress; retry in a few seconds and check `sluice cluster describe`',
  NOT_LEADER: 'leadership moved while the request was in flight; retry, and check `sluice cluster describe` if it persists',
  NOT_ENOUGH_REPLICAS: 'fewer replicas are in sync than the topic\'s min.insync.replicas; check `sluice cluster describe` for fenced brokers, or produce with --acks 1',
  NOT_ENOUGH_REPLICAS_AFTER_APPEND: 'the record was written but the ISR shrank below min.insync.replicas before it was replicated; check `sluice cluster describe`, then resend',
  REQUEST_TIMED_OUT: 'the cluster did not answer in time; check `sluice cluster describe` and the broker logs',
  MESSAGE_TOO_LARGE: 'send smaller records, or raise the topic\'s limit: `sluice topic alter NAME --config max.message.bytes=N`',
  NOT_CONTROLLER: 'the controller is restarting or unreachable; retry in a few seconds',
  STORAGE_ERROR: 'a broker could not write to its disk; check its logs and free space',
  UNSUPPORTED_COMPRESSION: 'use --compression none or gzip',
};

/** The stderr text for a failed command: `error [CODE]: message` plus what to do about it. */
export function describeFailure(err: unknown): string {
  if (err instanceof UsageError) return `error: ${err.message}\n(run with --help for usage)`;
  if (err instanceof SluiceError || isCodedError(err)) {
    const code = err.code as ErrorCode;
    const lines = [`error [${code}]: ${err.message}`];
    const range = offsetRange(err);
    if (code === 'OFFSET_OUT_OF_RANGE' && range) lines.push(`hint: ${range}`);
    const hint = HINTS[code];
    if (hint) lines.push(`hint: ${hint}`);
    return lines.join('\n');
  }
  const sys = err as NodeJS.ErrnoException;
  if (sys && typeof sys.code === 'string' && typeof sys.message === 'string') {
    return `error: ${sys.message}`;
  }
  return `error: ${err instanceof Error ? err.message : String(err)}`;
}

// A SluiceError from another copy of common/errors.ts (a bundled client, say) fails
// `instanceof`; recognize it by shape so its code still reaches the user.
function isCodedError(err: unknown): err is { code: string; message: string } {
  if (typeof err !== 'object' || err === null) return false;
  const e = err as { name?: unknown; code?: unknown };
  return e.name === 'SluiceError' && typeof e.code === 'string' && isErrorCode(e.code);
}

function offsetRange(err: object): string | null {
  const d = (err as { details?: unknown }).details as { logStartOffset?: number; logEndOffset?: number } | undefined;
  if (d?.logStartOffset === undefined || d.logEndOffset === undefined) return null;
  return `start from an offset between ${d.logStartOffset} (the oldest retained record) and ${d.logEndOffset} (the end, where the next record will be written)`;
}
