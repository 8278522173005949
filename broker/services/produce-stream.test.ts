import * as http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { silentLogger } from '../../common/logger.ts';
import { PRODUCE_RECEIVE_WINDOW_BYTES, raiseProduceReceiveWindow } from './produce-stream.ts';

const HTTP2_DEFAULT_WINDOW = 65_535;

let cleanup: (() => Promise<void>) | undefined;

afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

/** A plain HTTP/2 server and a client session to it; streams are answered at once. */
async function connect(): Promise<http2.ClientHttp2Session> {
  const server = http2.createServer();
  server.on('stream', (stream) => {
    stream.respond({ ':status': 200 });
    stream.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const client = http2.connect(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
  cleanup = async () => {
    client.close();
    await new Promise((resolve) => server.close(resolve));
  };
  await new Promise((resolve) => client.once('remoteSettings', resolve));
  return client;
}

async function openStream(client: http2.ClientHttp2Session, path: string): Promise<void> {
  const req = client.request({ ':method': 'POST', ':path': path });
  req.resume();
  await new Promise((resolve) => req.once('close', resolve));
}

describe('produce connection receive window', () => {
  it('is raised for a connection that opens a ProduceStream, and left alone for others', async () => {
    raiseProduceReceiveWindow(silentLogger());

    const other = await connect();
    await openStream(other, '/sluice.v1.LogService/Fetch');
    expect(other.remoteSettings.initialWindowSize).toBe(HTTP2_DEFAULT_WINDOW);
    await cleanup?.();

    const producer = await connect();
    expect(producer.remoteSettings.initialWindowSize).toBe(HTTP2_DEFAULT_WINDOW);
    const settled = new Promise((resolve) => producer.once('remoteSettings', resolve));
    await openStream(producer, '/sluice.v1.LogService/ProduceStream');
    await settled;
    // What the producer may now have in flight: per stream, and on the connection as a whole.
    expect(producer.remoteSettings.initialWindowSize).toBe(PRODUCE_RECEIVE_WINDOW_BYTES);
    expect(producer.state.remoteWindowSize).toBeGreaterThan(PRODUCE_RECEIVE_WINDOW_BYTES / 2);
  });
});
