// Entry point of the operator process:
//   node operator/kubernetes/operator-main.ts [--kubeconfig FILE] [--namespace NS] …
// In a pod it uses the service account; outside, --kubeconfig or $KUBECONFIG. Prints the
// SLUICE_READY line once serving (ready for requests, not necessarily the leader: /readyz says
// that), and stops gracefully on SIGTERM/SIGINT, releasing the Lease so a standby takes over at once.
import { KubeConfig } from '@kubernetes/client-node';
import { CommanderError } from 'commander';
import { createLogger } from '../../common/logger.ts';
import { exitAfterFailedStart, stopOnSignals } from '../../common/process-lifecycle.ts';
import { announceReady } from '../../common/ready-line.ts';
import { namespaceOf, parseOperatorArgs, type OperatorCliOptions } from './operator-options.ts';
import { startOperator } from './operator-server.ts';

let options: OperatorCliOptions;
try {
  options = parseOperatorArgs(process.argv.slice(2));
} catch (e) {
  process.exit(e instanceof CommanderError ? e.exitCode : 1);
}

const logger = createLogger('operator', { identity: options.identity, node: options.nodeId });
const kubeConfig = new KubeConfig();
const { operator, namespace } = await (async () => {
  // loadFromDefault: $KUBECONFIG (merged), ~/.kube/config, else the in-cluster service account.
  if (options.kubeconfig) kubeConfig.loadFromFile(options.kubeconfig);
  else kubeConfig.loadFromDefault();
  const namespace = namespaceOf(options.namespace, kubeConfig);
  return { operator: await startOperator({ ...options, namespace, kubeConfig, logger }), namespace };
})().catch((e: unknown) => exitAfterFailedStart(logger, 'operator', e));

announceReady({ role: 'controller', id: options.nodeId, grpc: operator.grpcAddress, http: operator.httpAddress });
logger.info({ grpc: operator.grpcAddress, http: operator.httpAddress, namespace, cluster: kubeConfig.getCurrentCluster()?.server }, 'operator serving');

stopOnSignals(logger, () => operator.stop());
