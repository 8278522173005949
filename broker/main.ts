// Entry point of the broker process:
//   node broker/main.ts --id 0 --data-dir /var/lib/sluice --controller 127.0.0.1:9090
// Prints `SLUICE_READY {...}` on stdout once it serves and has applied the cluster metadata,
// and stops gracefully on SIGTERM / SIGINT: a controlled shutdown first (the controller moves
// its leaderships away, bounded by --controlled-shutdown-timeout-ms), then a clean close. A
// second signal exits at once.
import { isSluiceError } from '../common/errors.ts';
import { stopOnSignals } from '../common/process-lifecycle.ts';
import { announceReady } from '../common/ready-line.ts';
import { Broker } from './broker.ts';
import { brokerUsage, loadBrokerConfig } from './broker-config.ts';

const EXIT_USAGE = 2;

function hostForUrl(host: string): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
}

async function main(): Promise<void> {
  let loaded: ReturnType<typeof loadBrokerConfig>;
  try {
    loaded = loadBrokerConfig(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`sluice broker: ${isSluiceError(err) ? err.message : String(err)}\n`);
    process.exit(EXIT_USAGE);
  }
  if (loaded.help) {
    process.stdout.write(`${brokerUsage()}\n`);
    return;
  }
  const { config } = loaded;
  const broker = new Broker(config);
  const { logger } = broker;

  process.on('uncaughtException', (err) => {
    // State after an unexpected throw outside every handler is unknown; a restart with log
    // recovery is safer than serving from it.
    logger.fatal({ err }, 'uncaught exception; exiting');
    process.exitCode = 1;
    setTimeout(() => process.exit(1), 100).unref();
  });
  process.on('unhandledRejection', (err) => {
    logger.error({ err }, 'unhandled promise rejection');
  });

  const signals = stopOnSignals(logger, () => broker.stop());

  let ports: Awaited<ReturnType<Broker['start']>>;
  try {
    ports = await broker.start();
  } catch (err) {
    logger.fatal({ err }, 'broker failed to start');
    await broker.stop().catch(() => undefined);
    process.exit(1);
  }
  await broker.whenReady();
  if (signals() > 0) return;
  const host = hostForUrl(config.host);
  announceReady({ role: 'broker', id: config.id, grpc: `${host}:${ports.grpcPort}`, http: `${host}:${ports.httpPort}` });
}

await main();
