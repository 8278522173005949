// Entry point of the operator process:
//   node operator/kubernetes/operator-main.ts [--kubeconfig FILE] [--namespace NS] …
// In a pod it uses the service account; outside, --kubeconfig or $KUBECONFIG. Prints the
// SLUICE_READY line once serving (ready for requests, not necessarily the leader: /readyz says
// that), and stops gracefully on SIGTERM/SIGINT, releasing the Lease so a standby takes over at once.
import { KubeConfig } from '@kubernetes/client-node';
import { CommanderError } from 'commander';
import { createLogger } from '../../common/logger.ts';
import { announceReady } from '../../common/ready-line.ts';
import { namespaceOf, parseOperatorArgs, type OperatorCliOptions } from './operator-options.ts';
import { startOperator, type RunningOperator } from './operator-server.ts';

let options: OperatorCliOptions;
try {
  options = parseOperatorArgs(process.argv.slice(2));
} catch (e) {
  process.exit(e instanceof CommanderError ? e.exitCode : 1);
}

const logger = createLogger('operator', { identity: options.identity, node: options.nodeId });
const kubeConfig = new KubeConfig();
let operator: RunningOperator;
let namespace: string;
try {
  // loadFromDefault: $KUBECONFIG (merged), ~/.kube/config, else the in-cluster service account.
  if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
  else kubeConfig.loadFromDefault();
  namespace = namespaceOf(options.namespace, kubeConfig);
  operator = await startOperator({ ...options, namespace, kubeConfig, logger });
} catch (e) {
  logger.fatal({ err: e }, 'operator failed to start');
  process.stderr.write(`sluice operator: ${(e as Error).message}\n`);
  await new Promise((resolve) => setTimeout(resolve, 50));
  process.exit(1);
}

announceReady({ role: 'controller', id: options.nodeId, grpc: operator.grpcAddress, http: operator.httpAddress });
logger.info({ grpc: operator.grpcAddress, http: operator.httpAddress, namespace, cluster: kubeConfig.getCurrentCluster()?.server }, 'operator serving');

let signalled = false;
const shutdown = (signal: NodeJS.Signals) => {
  if (signalled) {
    logger.warn({ signal }, 'second signal: exiting without waiting');
    process.exit(1);
  }
  signalled = true;
  logger.info({ signal }, 'stopping');
  operator.stop().then(
    () => process.exit(0),
    (e: unknown) => {
      logger.error({ err: e }, 'operator did not stop cleanly');
      process.exit(1);
    },
  );
};
process.on('SIGTERM', shutdown);
process.on('SIGINT', shutdown);
