// Command line of the operator: flags, their environment fallbacks (what the Deployment sets) and
// defaults, checked once here.
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { Command, InvalidArgumentError, Option, type OutputConfiguration } from 'commander';
import { DEFAULT_CONTROLLER_GRPC_PORT, DEFAULT_CONTROLLER_HTTP_PORT } from '../../common/ready-line.ts';
import { DEFAULT_CONTROLLER_NODE_ID, DEFAULT_HEARTBEAT_INTERVAL_MS, DEFAULT_LEADER_REBALANCE_INTERVAL_MS, DEFAULT_SESSION_TIMEOUT_MS } from '../local/controller-options.ts';

export interface OperatorCliOptions {
  /** Path of a kubeconfig; undefined = $KUBECONFIG, else ~/.kube/config, else the in-cluster service account. */
  readonly kubeconfig: string | undefined;
  /**
   * Namespace of the Topics, the broker Pods and the Lease; undefined = the kubeconfig context's
   * (in a pod: the service account's), else `default` (see namespaceOf).
   */
  readonly namespace: string | undefined;
  readonly brokerSelector: string;
  readonly host: string;
  readonly port: number;
  readonly httpPort: number;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly nodeId: number;
  readonly leaderRebalanceIntervalMs: number;
  readonly leaseName: string;
  readonly identity: string;
  readonly leaseDurationMs: number;
  readonly renewDeadlineMs: number;
  readonly retryPeriodMs: number;
  readonly resyncIntervalMs: number;
  readonly stallTimeoutMs: number;
}

function integer(min: number, max: number) {
  return (raw: string): number => {
    const n = Number(raw);
    if (!/^\s*-?\d+\s*$/.test(raw) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}, got "${raw}"`);
    }
    return n;
  };
}

/**
 * Parses the operator's arguments (without node and script). Throws a CommanderError for --help
 * and bad input. `env` supplies the downward-API variables (POD_NAMESPACE); the SLUICE_OPERATOR_*
 * fallbacks are read by commander, which only knows process.env.
 */
export function parseOperatorArgs(argv: readonly string[], env: NodeJS.ProcessEnv = process.env, output?: OutputConfiguration): OperatorCliOptions {
  const program = new Command('sluice-operator')
    .description('The Sluice operator: turns Topic resources into partition assignments, keeps broker liveness and ISRs, elects leaders when broker pods are lost. Several replicas elect one active controller through a Lease.')
    // No .env('KUBECONFIG'): it may list several files, which loadFromDefault merges.
    .addOption(new Option('--kubeconfig <file>', 'kubeconfig to use; default: $KUBECONFIG, else ~/.kube/config, else the in-cluster service account'))
    .addOption(
      new Option('--namespace <ns>', 'namespace of the Topics, the broker Pods and the Lease; default: $POD_NAMESPACE, else the kubeconfig context\'s (in a pod: the service account\'s), else default')
        .env('SLUICE_OPERATOR_NAMESPACE')
        .default(env.POD_NAMESPACE),
    )
    .addOption(new Option('--broker-selector <labels>', 'label selector of the broker Pods (StatefulSet ordinal = broker id)').env('SLUICE_OPERATOR_BROKER_SELECTOR').default('app.kubernetes.io/component=broker'))
    .addOption(new Option('--host <host>', 'address to listen on').env('SLUICE_OPERATOR_HOST').default('0.0.0.0'))
    .addOption(new Option('--port <port>', 'gRPC port of ControllerService and AdminService (0 = any free port)').env('SLUICE_OPERATOR_PORT').default(DEFAULT_CONTROLLER_GRPC_PORT).argParser(integer(0, 65_535)))
    .addOption(new Option('--http-port <port>', 'HTTP port for /metrics, /healthz, /readyz (0 = any free port)').env('SLUICE_OPERATOR_HTTP_PORT').default(DEFAULT_CONTROLLER_HTTP_PORT).argParser(integer(0, 65_535)))
    .addOption(new Option('--session-timeout-ms <ms>', 'a broker not heard from for this long is fenced').env('SLUICE_OPERATOR_SESSION_TIMEOUT_MS').default(DEFAULT_SESSION_TIMEOUT_MS).argParser(integer(100, 3_600_000)))
    .addOption(new Option('--heartbeat-interval-ms <ms>', 'how often brokers heartbeat; below the session timeout').env('SLUICE_OPERATOR_HEARTBEAT_INTERVAL_MS').default(DEFAULT_HEARTBEAT_INTERVAL_MS).argParser(integer(10, 3_600_000)))
    .addOption(new Option('--node-id <id>', 'controller id reported to brokers').env('SLUICE_OPERATOR_NODE_ID').default(DEFAULT_CONTROLLER_NODE_ID).argParser(integer(0, 2_147_483_647)))
    .addOption(new Option('--leader-rebalance-interval-ms <ms>', 'how often leadership moves back to in-sync preferred replicas; 0 = never').env('SLUICE_OPERATOR_LEADER_REBALANCE_INTERVAL_MS').default(DEFAULT_LEADER_REBALANCE_INTERVAL_MS).argParser(integer(0, 86_400_000)))
    .addOption(new Option('--lease-name <name>', 'name of the coordination.k8s.io Lease used for leader election (it also holds the cluster record)').env('SLUICE_OPERATOR_LEASE_NAME').default('sluice-operator'))
    .addOption(new Option('--identity <id>', 'this replica\'s identity in the Lease; default: host name plus a random suffix').env('SLUICE_OPERATOR_IDENTITY'))
    .addOption(new Option('--lease-duration-ms <ms>', 'a Lease not renewed for this long may be taken over').env('SLUICE_OPERATOR_LEASE_DURATION_MS').default(15_000).argParser(integer(1_000, 600_000)))
    .addOption(new Option('--renew-deadline-ms <ms>', 'the leader stops acting when it could not renew for this long').env('SLUICE_OPERATOR_RENEW_DEADLINE_MS').default(10_000).argParser(integer(100, 600_000)))
    .addOption(new Option('--retry-period-ms <ms>', 'interval of renewals and acquisition attempts').env('SLUICE_OPERATOR_RETRY_PERIOD_MS').default(2_000).argParser(integer(10, 600_000)))
    .addOption(new Option('--resync-interval-ms <ms>', 'every Topic is reconciled at least this often').env('SLUICE_OPERATOR_RESYNC_INTERVAL_MS').default(300_000).argParser(integer(100, 86_400_000)))
    .addOption(new Option('--stall-timeout-ms <ms>', 'an informer silent for this long (no event, no reconnect) is restarted').env('SLUICE_OPERATOR_STALL_TIMEOUT_MS').default(90_000).argParser(integer(100, 3_600_000)))
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false)
    .exitOverride();
  if (output) program.configureOutput(output);
  program.parse([...argv], { from: 'user' });
  const o = program.opts<Omit<OperatorCliOptions, 'identity' | 'kubeconfig' | 'namespace'> & { identity?: string; kubeconfig?: string; namespace?: string }>();
  if (o.heartbeatIntervalMs >= o.sessionTimeoutMs) program.error(`error: --heartbeat-interval-ms (${o.heartbeatIntervalMs}) must be below --session-timeout-ms (${o.sessionTimeoutMs})`);
  if (!(o.retryPeriodMs < o.renewDeadlineMs && o.renewDeadlineMs < o.leaseDurationMs)) {
    program.error(`error: need --retry-period-ms (${o.retryPeriodMs}) < --renew-deadline-ms (${o.renewDeadlineMs}) < --lease-duration-ms (${o.leaseDurationMs}), or two operators could both act as leader`);
  }
  return {
    kubeconfig: o.kubeconfig,
    namespace: o.namespace,
    brokerSelector: o.brokerSelector,
    host: o.host,
    port: o.port,
    httpPort: o.httpPort,
    sessionTimeoutMs: o.sessionTimeoutMs,
    heartbeatIntervalMs: o.heartbeatIntervalMs,
    nodeId: o.nodeId,
    leaderRebalanceIntervalMs: o.leaderRebalanceIntervalMs,
    leaseName: o.leaseName,
    // Unique even when two replicas share a host name (a restarted pod, two local processes).
    identity: o.identity ?? `${env.POD_NAME ?? hostname()}-${randomBytes(4).toString('hex')}`,
    leaseDurationMs: o.leaseDurationMs,
    renewDeadlineMs: o.renewDeadlineMs,
    retryPeriodMs: o.retryPeriodMs,
    resyncIntervalMs: o.resyncIntervalMs,
    stallTimeoutMs: o.stallTimeoutMs,
  };
}

/**
 * The namespace to work in, as kubectl picks it: the one asked for, else the current context's
 * (for the in-cluster config, client-node reads it from the service account's namespace file),
 * else `default`.
 */
export function namespaceOf(asked: string | undefined, kubeConfig: KubeConfig): string {
  if (asked) return asked;
  return kubeConfig.getContextObject(kubeConfig.getCurrentContext())?.namespace || 'default';
}
