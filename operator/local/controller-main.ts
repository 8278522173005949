// Entry point of the local controller process:
//   node operator/local/controller-main.ts --data-dir DIR [--port 0] [--http-port 0] …
// Prints the SLUICE_READY line once serving; SIGTERM/SIGINT stop it gracefully (exit 0).
import { CommanderError } from 'commander';
import { createLogger } from '../../common/logger.ts';
import { exitAfterFailedStart, stopOnSignals } from '../../common/process-lifecycle.ts';
import { announceReady } from '../../common/ready-line.ts';
import { parseControllerArgs, type ControllerCliOptions } from './controller-options.ts';
import { startController } from './controller-server.ts';

let options: ControllerCliOptions;
try {
  options = parseControllerArgs(process.argv.slice(2));
} catch (e) {
  // Commander has already printed the help or the problem.
  process.exit(e instanceof CommanderError ? e.exitCode : 1);
}

const logger = createLogger('controller', { node: options.nodeId });
const controller = await startController({ ...options, logger }).catch((e: unknown) => exitAfterFailedStart(logger, 'controller', e));

announceReady({ role: 'controller', id: options.nodeId, grpc: controller.grpcAddress, http: controller.httpAddress });
logger.info({ grpc: controller.grpcAddress, http: controller.httpAddress, dataDir: options.dataDir }, 'controller serving');

stopOnSignals(logger, () => controller.stop());
