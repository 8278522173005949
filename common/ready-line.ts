// How a Sluice process tells whoever started it that it is serving, and where: one line on
// stdout, `SLUICE_READY {json}`. `sluice dev`, the tests and the benchmarks start processes with
// port 0 and read the real ports from this line.

export interface ReadyInfo {
  role: 'broker' | 'controller';
  /** Broker id, or the controller's node id. */
  id: number;
  /** host:port of the gRPC server. */
  grpc: string;
  /** host:port of the HTTP server (/metrics, /healthz, /readyz). */
  http: string;
  pid: number;
}

export const READY_PREFIX = 'SLUICE_READY ';

export function announceReady(info: Omit<ReadyInfo, 'pid'>): void {
  process.stdout.write(`${READY_PREFIX}${JSON.stringify({ ...info, pid: process.pid })}\n`);
}

export function parseReadyLine(line: string): ReadyInfo | null {
  if (!line.startsWith(READY_PREFIX)) return null;
  try {
    return JSON.parse(line.slice(READY_PREFIX.length)) as ReadyInfo;
  } catch {
    return null;
  }
}

/** Default ports of the embedded cluster: controller 9090/9190, broker i 9092+i / 9192+i. */
export const DEFAULT_CONTROLLER_GRPC_PORT = 9090;
export const DEFAULT_CONTROLLER_HTTP_PORT = 9190;
export const DEFAULT_BROKER_GRPC_PORT_BASE = 9092;
export const DEFAULT_BROKER_HTTP_PORT_BASE = 9192;
