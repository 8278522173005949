// Stands in for broker/main.ts and operator/local/controller-main.ts in EmbeddedCluster's
// tests: takes the same flags, listens on the ports it is given, prints the READY line, and
// misbehaves on request (FAKE_SLUICE_MODE_<name> or FAKE_SLUICE_MODE: crash, silent,
// ignore-sigterm) so every path of the process handling can be exercised in milliseconds.
import * as net from 'node:net';
import { parseArgs } from 'node:util';
import { announceReady } from '../../../common/ready-line.ts';

const { values } = parseArgs({
  options: {
    id: { type: 'string' },
    port: { type: 'string' },
    'http-port': { type: 'string' },
    'data-dir': { type: 'string' },
    controller: { type: 'string' },
    host: { type: 'string' },
    rack: { type: 'string' },
    'session-timeout-ms': { type: 'string' },
  },
  strict: true,
});

const role = values.id !== undefined ? 'broker' : 'controller';
const name = role === 'broker' ? `broker_${values.id}` : 'controller';
const mode = process.env[`FAKE_SLUICE_MODE_${name}`] ?? process.env.FAKE_SLUICE_MODE ?? 'normal';
const log = (level: number, msg: string, extra: Record<string, unknown> = {}) =>
  process.stderr.write(`${JSON.stringify({ level, pid: process.pid, msg, ...extra })}\n`);

log(30, 'starting', { args: process.argv.slice(2), role });
process.stdout.write('a line on stdout that is not the READY line\n');

if (mode === 'crash') {
  log(50, 'cannot open data dir', { err: { message: 'EACCES: permission denied' } });
  process.exit(3);
}

function listen(port: number): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer((socket) => socket.end());
    server.once('error', reject);
    server.listen(port, values.host ?? '127.0.0.1', () => resolve(server));
  });
}

const grpc = await listen(Number(values.port ?? 0));
const http = await listen(Number(values['http-port'] ?? 0));
const addr = (s: net.Server) => {
  const a = s.address() as net.AddressInfo;
  return `${a.address}:${a.port}`;
};

if (mode === 'ignore-sigterm') {
  process.on('SIGTERM', () => log(40, 'ignoring SIGTERM'));
} else {
  process.on('SIGTERM', () => {
    log(30, 'stopping on SIGTERM');
    grpc.close();
    http.close();
    setTimeout(() => process.exit(0), 20);
  });
}

if (mode !== 'silent') {
  announceReady({ role, id: Number(values.id ?? 0), grpc: addr(grpc), http: addr(http) });
}
