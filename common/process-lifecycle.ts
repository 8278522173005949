// What every Sluice process's entry point does the same way: a failed start is logged, said
// plainly on stderr and exits 1; SIGTERM/SIGINT stop it gracefully (exit 0, or 1 when the stop
// fails), and a second signal exits at once without waiting.
import type { Logger } from './logger.ts';

/** Logs a failed start, repeats it on stderr (read before any log tooling), exits 1. */
export async function exitAfterFailedStart(logger: Logger, name: string, err: unknown): Promise<never> {
  logger.fatal({ err }, `${name} failed to start`);
  process.stderr.write(`sluice ${name}: ${(err as Error).message}\n`);
  // Let the async log destination drain; nothing else keeps the process alive.
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.exit(1);
}

/** Stops gracefully on the first SIGTERM/SIGINT; returns how many signals have arrived. */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>): () => number {
  let signals = 0;
  const onSignal = (signal: NodeJS.Signals): void => {
    signals++;
    if (signals > 1) {
      logger.warn({ signal }, 'second signal: exiting without waiting');
      process.exit(1);
    }
    logger.info({ signal }, 'stopping');
    stop().then(
      () => process.exit(0),
      (err: unknown) => {
        logger.error({ err }, 'did not stop cleanly');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return () => signals;
}
