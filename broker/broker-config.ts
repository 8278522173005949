// The one place broker settings come from: command-line flags, then SLUICE_* environment
// variables (what a StatefulSet sets), then defaults. Validated once against a JSON schema so
// a typo fails at start with a message naming the flag, not minutes later in a handler.
import { parseArgs } from 'node:util';
import { Ajv } from 'ajv';
import { SluiceError } from '../common/errors.ts';
import { DEFAULT_BROKER_GRPC_PORT_BASE, DEFAULT_BROKER_HTTP_PORT_BASE, DEFAULT_CONTROLLER_GRPC_PORT } from '../common/ready-line.ts';

export interface BrokerConfig {
  /** Broker id, unique in the cluster (the StatefulSet ordinal in Kubernetes). */
  id: number;
  /** Address advertised to the controller and, through metadata, to clients. */
  host: string;
  /** Address the gRPC and HTTP servers listen on. */
  bindHost: string;
  /** gRPC port; 0 picks a free one (the real one is registered and printed on the READY line). */
  port: number;
  httpPort: number;
  dataDir: string;
  /** host:port of the controller's gRPC server. */
  controller: string;
  /** Zone of the broker for rack-aware placement; empty when unknown. */
  rack: string;
  retentionCheckIntervalMs: number;
  flushCheckIntervalMs: number;
  /** How long a stop waits for in-flight calls before cutting them off. */
  shutdownTimeoutMs: number;
  /** replica.lag.time.max.ms: a follower not caught up for longer leaves the ISR. */
  replicaLagTimeMaxMs: number;
  /** replica.fetch.wait.max.ms: how long a leader holds a replica fetch that finds no new data. */
  replicaFetchWaitMaxMs: number;
  /** How long a stop waits for the controller to move this broker's leaderships away. */
  controlledShutdownTimeoutMs: number;
  /**
   * After start, readiness (gRPC health, /readyz) waits until this broker is back in the ISR of
   * every partition it follows whose leader is alive, at most this long.
   */
  readyCatchUpTimeoutMs: number;
}

interface FlagSpec {
  key: keyof BrokerConfig;
  env: string;
  schema: Record<string, unknown>;
  help: string;
}

const PORT = { type: 'integer', minimum: 0, maximum: 65_535 };
const INTERVAL = { type: 'integer', minimum: 1, maximum: 86_400_000 };

// Order is the order of --help.
const FLAGS: Record<string, FlagSpec> = {
  'id': { key: 'id', env: 'SLUICE_BROKER_ID', schema: { type: 'integer', minimum: 0, maximum: 2_147_483_647 }, help: 'broker id, unique in the cluster (required)' },
  'data-dir': { key: 'dataDir', env: 'SLUICE_DATA_DIR', schema: { type: 'string', minLength: 1 }, help: 'directory holding the partition logs (required)' },
  'controller': { key: 'controller', env: 'SLUICE_CONTROLLER', schema: { type: 'string', pattern: '^[^\\s:]+:\\d{1,5}$' }, help: `controller gRPC address host:port (default 127.0.0.1:${DEFAULT_CONTROLLER_GRPC_PORT})` },
  'host': { key: 'host', env: 'SLUICE_BROKER_HOST', schema: { type: 'string', minLength: 1, pattern: '^[^\\s]+$' }, help: 'host name or IP advertised to clients (default 127.0.0.1)' },
  'bind-host': { key: 'bindHost', env: 'SLUICE_BROKER_BIND_HOST', schema: { type: 'string', minLength: 1, pattern: '^[^\\s]+$' }, help: 'address to listen on (default: --host; 0.0.0.0 in a pod)' },
  'port': { key: 'port', env: 'SLUICE_BROKER_PORT', schema: PORT, help: `gRPC port, 0 = any free port (default ${DEFAULT_BROKER_GRPC_PORT_BASE})` },
  'http-port': { key: 'httpPort', env: 'SLUICE_BROKER_HTTP_PORT', schema: PORT, help: `HTTP port for /metrics, /healthz, /readyz, 0 = any free port (default ${DEFAULT_BROKER_HTTP_PORT_BASE})` },
  'rack': { key: 'rack', env: 'SLUICE_BROKER_RACK', schema: { type: 'string' }, help: 'rack or zone of this broker, for rack-aware replica placement (default none)' },
  'retention-check-interval-ms': { key: 'retentionCheckIntervalMs', env: 'SLUICE_RETENTION_CHECK_INTERVAL_MS', schema: INTERVAL, help: 'how often retention deletes old segments (default 300000)' },
  'flush-check-interval-ms': { key: 'flushCheckIntervalMs', env: 'SLUICE_FLUSH_CHECK_INTERVAL_MS', schema: INTERVAL, help: 'how often logs are checked against flush.ms (default 1000)' },
  'shutdown-timeout-ms': { key: 'shutdownTimeoutMs', env: 'SLUICE_SHUTDOWN_TIMEOUT_MS', schema: { type: 'integer', minimum: 0, maximum: 600_000 }, help: 'how long a stop waits for in-flight requests (default 10000)' },
  'replica-lag-time-max-ms': { key: 'replicaLagTimeMaxMs', env: 'SLUICE_REPLICA_LAG_TIME_MAX_MS', schema: { type: 'integer', minimum: 10, maximum: 3_600_000 }, help: 'a follower that has not caught up with the leader for this long leaves the ISR (default 10000)' },
  'replica-fetch-wait-max-ms': { key: 'replicaFetchWaitMaxMs', env: 'SLUICE_REPLICA_FETCH_WAIT_MAX_MS', schema: { type: 'integer', minimum: 0, maximum: 30_000 }, help: 'how long a leader holds a follower\'s fetch that finds no new data; keep it well below --replica-lag-time-max-ms (default 500)' },
  'ready-catch-up-timeout-ms': { key: 'readyCatchUpTimeoutMs', env: 'SLUICE_READY_CATCH_UP_TIMEOUT_MS', schema: { type: 'integer', minimum: 0, maximum: 86_400_000 }, help: 'after start, report ready (gRPC health, /readyz) only once back in the ISR of every followed partition whose leader is alive, waiting at most this long; 0 = ready at the first metadata (default 300000)' },
  'controlled-shutdown-timeout-ms': { key: 'controlledShutdownTimeoutMs', env: 'SLUICE_CONTROLLED_SHUTDOWN_TIMEOUT_MS', schema: { type: 'integer', minimum: 0, maximum: 600_000 }, help: 'on SIGTERM, how long to wait for the controller to move this broker\'s leaderships away, 0 = do not ask (default 30000)' },
};

const DEFAULTS: Partial<BrokerConfig> = {
  controller: `127.0.0.1:${DEFAULT_CONTROLLER_GRPC_PORT}`,
  host: '127.0.0.1',
  port: DEFAULT_BROKER_GRPC_PORT_BASE,
  httpPort: DEFAULT_BROKER_HTTP_PORT_BASE,
  rack: '',
  // Kafka's log.retention.check.interval.ms.
  retentionCheckIntervalMs: 300_000,
  flushCheckIntervalMs: 1_000,
  shutdownTimeoutMs: 10_000,
  // Kafka's replica.lag.time.max.ms, replica.fetch.wait.max.ms; controlled shutdown as KRaft's
  // default bound on waiting for the controller.
  replicaLagTimeMaxMs: 10_000,
  replicaFetchWaitMaxMs: 500,
  controlledShutdownTimeoutMs: 30_000,
  // Long enough to copy a few GiB from the leader; a rolling restart waits for it per broker.
  readyCatchUpTimeoutMs: 300_000,
};

const schema = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'dataDir', 'controller', 'host', 'bindHost', 'port', 'httpPort', 'rack', 'retentionCheckIntervalMs', 'flushCheckIntervalMs', 'shutdownTimeoutMs', 'replicaLagTimeMaxMs', 'replicaFetchWaitMaxMs', 'controlledShutdownTimeoutMs', 'readyCatchUpTimeoutMs'],
  properties: Object.fromEntries(Object.values(FLAGS).map((f) => [f.key, f.schema])),
};

// coerceTypes: flags and env values are strings; "9092" must validate as the integer 9092.
const validate = new Ajv({ allErrors: true, coerceTypes: true, strict: true }).compile(schema);

const FLAG_BY_KEY = new Map(Object.entries(FLAGS).map(([flag, spec]) => [spec.key as string, flag]));

export function brokerUsage(): string {
  const width = Math.max(...Object.keys(FLAGS).map((f) => f.length)) + 4;
  const lines = Object.entries(FLAGS).map(([flag, spec]) => `  --${flag.padEnd(width)}${spec.help} [env ${spec.env}]`);
  return [
    'Usage: node broker/main.ts --id <n> --data-dir <dir> [options]',
    '',
    'Starts one Sluice broker: serves LogService, MetadataService, AdminService and ReplicaService',
    'over gRPC, registers with the controller, replicates the partitions it follows, and prints a',
    'SLUICE_READY line once it serves. SIGTERM moves its leaderships away before it stops.',
    '',
    'Options (a flag wins over its environment variable):',
    ...lines,
    `  --${'help'.padEnd(width)}print this help`,
  ].join('\n');
}

export type BrokerConfigResult = { help: true } | { help: false; config: BrokerConfig };

/**
 * Parses argv (without node and the script) and env into a validated config. Throws
 * SluiceError INVALID_CONFIG with a message naming the offending flag.
 */
export function loadBrokerConfig(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): BrokerConfigResult {
  let values: Record<string, string | boolean | undefined>;
  try {
    const options = Object.fromEntries(Object.keys(FLAGS).map((flag) => [flag, { type: 'string' as const }]));
    ({ values } = parseArgs({ args: [...argv], options: { ...options, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: false }));
  } catch (err) {
    throw new SluiceError('INVALID_CONFIG', `${(err as Error).message}; run with --help for the list of flags`);
  }
  if (values.help === true) return { help: true };

  const raw: Record<string, unknown> = { ...DEFAULTS };
  for (const [flag, spec] of Object.entries(FLAGS)) {
    const fromFlag = values[flag];
    const fromEnv = env[spec.env];
    if (typeof fromFlag === 'string') raw[spec.key] = fromFlag;
    else if (fromEnv !== undefined && fromEnv !== '') raw[spec.key] = fromEnv;
  }
  if (raw.bindHost === undefined) raw.bindHost = raw.host;

  // Ajv coerces in place; error messages quote what the user typed.
  const given = { ...raw };
  if (!validate(raw)) {
    const problems = (validate.errors ?? []).map((e) => {
      const key = e.instancePath.replace(/^\//, '') || String(e.params.missingProperty ?? '');
      const flag = FLAG_BY_KEY.get(key) ?? key;
      const spec = FLAGS[flag];
      if (e.keyword === 'required') return `--${flag} is required (or set ${spec?.env ?? 'its environment variable'})`;
      return `--${flag} ${e.message} (got ${JSON.stringify(given[key])})`;
    });
    throw new SluiceError('INVALID_CONFIG', `invalid broker configuration: ${problems.join('; ')}`);
  }
  return { help: false, config: raw as unknown as BrokerConfig };
}
