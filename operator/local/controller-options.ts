// Command line of the local controller: flags, their environment fallbacks and defaults, checked
// once here so that the rest of the process gets valid numbers.
import { Command, InvalidArgumentError, Option, type OutputConfiguration } from 'commander';
import { DEFAULT_CONTROLLER_GRPC_PORT, DEFAULT_CONTROLLER_HTTP_PORT } from '../../common/ready-line.ts';

export interface ControllerCliOptions {
  readonly host: string;
  readonly port: number;
  readonly httpPort: number;
  readonly dataDir: string;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly nodeId: number;
  /** 0 disables the preferred-leader rebalance. */
  readonly leaderRebalanceIntervalMs: number;
}

export const DEFAULT_SESSION_TIMEOUT_MS = 6_000;
export const DEFAULT_HEARTBEAT_INTERVAL_MS = 1_000;
export const DEFAULT_CONTROLLER_NODE_ID = 1000;
export const DEFAULT_LEADER_REBALANCE_INTERVAL_MS = 10_000;

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
 * Parses the controller's arguments (without the node and script paths). Flags win over
 * environment variables, which win over defaults. Throws a CommanderError for --help (exitCode
 * 0) and for bad input (exitCode 1) after printing through `output`.
 */
export function parseControllerArgs(argv: readonly string[], output?: OutputConfiguration): ControllerCliOptions {
  const program = new Command('sluice-controller')
    .description('The Sluice controller for an embedded cluster: owns topic metadata, broker liveness and leader elections; state lives in DATA_DIR.')
    .addOption(new Option('--data-dir <dir>', 'directory of the controller state file (created if missing)').env('SLUICE_CONTROLLER_DATA_DIR').makeOptionMandatory())
    .addOption(new Option('--host <host>', 'address to listen on and to announce').env('SLUICE_CONTROLLER_HOST').default('127.0.0.1'))
    .addOption(new Option('--port <port>', 'gRPC port (0 = any free port)').env('SLUICE_CONTROLLER_PORT').default(DEFAULT_CONTROLLER_GRPC_PORT).argParser(integer(0, 65_535)))
    .addOption(new Option('--http-port <port>', 'HTTP port for /metrics, /healthz, /readyz (0 = any free port)').env('SLUICE_CONTROLLER_HTTP_PORT').default(DEFAULT_CONTROLLER_HTTP_PORT).argParser(integer(0, 65_535)))
    .addOption(new Option('--session-timeout-ms <ms>', 'a broker not heard from for this long is fenced (broker.session.timeout.ms)').env('SLUICE_CONTROLLER_SESSION_TIMEOUT_MS').default(DEFAULT_SESSION_TIMEOUT_MS).argParser(integer(100, 3_600_000)))
    .addOption(new Option('--heartbeat-interval-ms <ms>', 'how often brokers are told to heartbeat; must be below the session timeout').env('SLUICE_CONTROLLER_HEARTBEAT_INTERVAL_MS').default(DEFAULT_HEARTBEAT_INTERVAL_MS).argParser(integer(10, 3_600_000)))
    .addOption(new Option('--node-id <id>', 'this controller\'s id, reported to brokers as controller_id').env('SLUICE_CONTROLLER_NODE_ID').default(DEFAULT_CONTROLLER_NODE_ID).argParser(integer(0, 2_147_483_647)))
    .addOption(
      new Option('--leader-rebalance-interval-ms <ms>', 'how often leadership moves back to preferred replicas that are in sync (also right after one catches up); 0 = never')
        .env('SLUICE_CONTROLLER_LEADER_REBALANCE_INTERVAL_MS')
        .default(DEFAULT_LEADER_REBALANCE_INTERVAL_MS)
        .argParser(integer(0, 86_400_000)),
    )
    .helpOption('-h, --help', 'show this help')
    .allowExcessArguments(false)
    .exitOverride();
  if (output) program.configureOutput(output);
  program.parse([...argv], { from: 'user' });
  const o = program.opts<ControllerCliOptions>();
  if (o.heartbeatIntervalMs >= o.sessionTimeoutMs) {
    program.error(`error: --heartbeat-interval-ms (${o.heartbeatIntervalMs}) must be below --session-timeout-ms (${o.sessionTimeoutMs}), or every broker would be fenced between two heartbeats`);
  }
  return {
    host: o.host,
    port: o.port,
    httpPort: o.httpPort,
    dataDir: o.dataDir,
    sessionTimeoutMs: o.sessionTimeoutMs,
    heartbeatIntervalMs: o.heartbeatIntervalMs,
    nodeId: o.nodeId,
    leaderRebalanceIntervalMs: o.leaderRebalanceIntervalMs,
  };
}
