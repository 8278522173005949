// The logger a client uses when the application passes none: one pino instance per process
// (one stderr destination), a child per client carrying its role and clientId.
import { createLogger, type Logger } from '../common/logger.ts';

let base: Logger | undefined;

export function clientLogger(given: Logger | undefined, role: 'producer' | 'consumer' | 'admin', clientId: string): Logger {
  if (given) return given.child({ role, clientId });
  base ??= createLogger('client');
  return base.child({ role, clientId });
}
