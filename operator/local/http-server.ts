// The controller's HTTP side: /healthz (the process runs), /readyz (it serves and can still
// commit changes), /metrics (Prometheus text format).
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HttpServerOptions {
  readonly host: string;
  readonly port: number;
  readonly registry: Registry;
  /** Null when ready, else why not (shown in the 503 body). */
  readonly notReadyReason: () => string | null;
}

export interface RunningHttpServer {
  readonly port: number;
  close(): Promise<void>;
}

export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://controller');
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type });
      res.end(body);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return reply(405, 'only GET\n');
    switch (url.pathname) {
      case '/healthz':
        return reply(200, 'ok\n');
      case '/readyz': {
        const reason = options.notReadyReason();
        return reason === null ? reply(200, 'ready\n') : reply(503, `not ready: ${reason}\n`);
      }
      case '/metrics':
        options.registry.metrics().then(
          (text) => reply(200, text, options.registry.contentType),
          (e: unknown) => reply(500, `metrics failed: ${(e as Error).message}\n`),
        );
        return;
      default:
        return reply(404, 'not found; try /healthz, /readyz or /metrics\n');
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
