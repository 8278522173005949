// The one logger factory: pino, JSON lines on stderr (stdout stays free for CLI output).
// Fields follow the house convention: component, broker, topic, partition, epoch.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(component: string, bindings: Record<string, unknown> = {}): Logger {
  return pino(
    {
      level: process.env.SLUICE_LOG_LEVEL ?? 'info',
      base: { component, pid: process.pid, ...bindings },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    pino.destination({ dest: 2, sync: false }),
  );
}

/** A logger that drops everything: for tests and library use without a logger. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
