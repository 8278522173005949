// Entry point of the local controller process:
//   node operator/local/controller-main.ts --data-dir DIR [--port 0] [--http-port 0] …
// Prints the SLUICE_READY line once serving; SIGTERM/SIGINT stop it gracefully (exit 0).
import { CommanderError } from 'commander';
import { createLogger } from '../../common/logger.ts';
import { announceReady } from '../../common/ready-line.ts';
import { parseControllerArgs, type ControllerCliOptions } from './controller-options.ts';
import { startController, type RunningController } from './controller-server.ts';

let options: ControllerCliOptions;
try {
  options = parseControllerArgs(process.argv.slice(2));
} catch (e) {
  // Commander has already printed the help or the problem.
  process.exit(e instanceof CommanderError ? e.exitCode : 1);
}

const logger = createLogger('controller', { node: options.nodeId });
let controller: RunningController;
try {
  controller = await startController({ ...options, logger });
} catch (e) {
  logger.fatal({ err: e }, 'controller failed to start');
  // Also plainly on stderr: whoever started the process reads this before any log tooling.
  process.stderr.write(`sluice controller: ${(e as Error).message}\n`);
  process.exitCode = 1;
  // Let the async log destination drain; nothing else keeps the process alive.
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.exit(1);
}

announceReady({ role: 'controller', id: options.nodeId, grpc: controller.grpcAddress, http: controller.httpAddress });
logger.info({ grpc: controller.grpcAddress, http: controller.httpAddress, dataDir: options.dataDir }, 'controller serving');

let signalled = false;
const shutdown = (signal: NodeJS.Signals) => {
  if (signalled) {
    logger.warn({ signal }, 'second signal: exiting without waiting');
    process.exit(1);
  }
  signalled = true;
  logger.info({ signal }, 'stopping');
  controller.stop().then(
    () => process.exit(0),
    (e: unknown) => {
      logger.error({ err: e }, 'controller did not stop cleanly');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
