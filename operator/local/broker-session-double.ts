// Test double of a broker's side of ControllerService: a real grpc-js client that opens a
// BrokerSession, registers, heartbeats and collects what the controller pushes. Used only by
// tests; the real broker lives in broker/.
import * as grpc from '@grpc/grpc-js';
import { GRPC_CHANNEL_OPTIONS, loadSluiceProto } from '../../common/proto.ts';
import type { AdminServiceClient } from '../../proto/gen/sluice/v1/AdminService.ts';
import type { BrokerSessionRequest } from '../../proto/gen/sluice/v1/BrokerSessionRequest.ts';
import type { BrokerSessionResponse__Output } from '../../proto/gen/sluice/v1/BrokerSessionResponse.ts';
import type { ClusterMetadata__Output } from '../../proto/gen/sluice/v1/ClusterMetadata.ts';
import type { ControllerServiceClient } from '../../proto/gen/sluice/v1/ControllerService.ts';
import type { RegistrationAccepted__Output } from '../../proto/gen/sluice/v1/RegistrationAccepted.ts';

export function controllerClient(address: string): ControllerServiceClient {
  const { proto } = loadSluiceProto();
  return new proto.sluice.v1.ControllerService(address, grpc.credentials.createInsecure(), GRPC_CHANNEL_OPTIONS);
}

export function adminClient(address: string): AdminServiceClient {
  const { proto } = loadSluiceProto();
  return new proto.sluice.v1.AdminService(address, grpc.credentials.createInsecure(), GRPC_CHANNEL_OPTIONS);
}

/** A unary call as a promise: resolves with the response, rejects with the grpc ServiceError. */
export function unary<Req, Res>(call: (req: Req, cb: grpc.requestCallback<Res>) => unknown, req: Req): Promise<Res> {
  return new Promise((resolve, reject) => {
    call(req, (err, res) => (err ? reject(err) : resolve(res as Res)));
  });
}

export interface DoubleRegistration {
  brokerId: number;
  incarnationId: string;
  host?: string;
  port?: number;
  rack?: string;
}

export class BrokerSessionDouble {
  readonly client: ControllerServiceClient;
  readonly #stream: grpc.ClientDuplexStream<BrokerSessionRequest, BrokerSessionResponse__Output>;
  readonly #inbox: BrokerSessionResponse__Output[] = [];
  #waiter: (() => void) | undefined;
  #ended = false;
  brokerId = -1;
  brokerEpoch = -1;
  metadataVersion = 0;

  constructor(address: string) {
    this.client = controllerClient(address);
    this.#stream = this.client.BrokerSession();
    this.#stream.on('data', (m: BrokerSessionResponse__Output) => {
      this.#inbox.push(m);
      this.#wake();
    });
    const ended = () => {
      this.#ended = true;
      this.#wake();
    };
    this.#stream.on('end', ended);
    this.#stream.on('error', ended);
    this.#stream.on('close', ended);
  }

  /** Registers and waits for the answer and the first metadata push. */
  async register(reg: DoubleRegistration): Promise<{ registered: RegistrationAccepted__Output; metadata: ClusterMetadata__Output }> {
    this.send({ register: { broker_id: reg.brokerId, incarnation_id: reg.incarnationId, host: reg.host ?? '127.0.0.1', port: reg.port ?? 9092 + reg.brokerId, rack: reg.rack ?? '' } });
    const first = await this.next();
    if (first.kind !== 'registered' || !first.registered) throw new Error(`expected registered, got ${JSON.stringify(first)}`);
    this.brokerId = reg.brokerId;
    this.brokerEpoch = first.registered.broker_epoch;
    const metadata = await this.nextMetadata();
    return { registered: first.registered, metadata };
  }

  heartbeat(epoch = this.brokerEpoch, brokerId = this.brokerId): void {
    this.send({ heartbeat: { broker_id: brokerId, broker_epoch: epoch, metadata_version: this.metadataVersion } });
  }

  send(message: BrokerSessionRequest): void {
    this.#stream.write(message);
  }

  /** The next message from the controller; rejects if the stream ends first or after timeoutMs. */
  async next(timeoutMs = 5_000): Promise<BrokerSessionResponse__Output> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = this.#inbox.shift();
      if (m) {
        if (m.kind === 'metadata' && m.metadata) this.metadataVersion = m.metadata.version;
        return m;
      }
      if (this.#ended) throw new Error('session stream ended');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no session message within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(t);
          resolve();
        };
      });
    }
  }

  /** Skips to the next metadata push satisfying `accept`. */
  async nextMetadata(accept: (m: ClusterMetadata__Output) => boolean = () => true, timeoutMs = 5_000): Promise<ClusterMetadata__Output> {
    for (;;) {
      const m = await this.next(timeoutMs);
      if (m.kind === 'metadata' && m.metadata && accept(m.metadata)) return m.metadata;
      if (m.kind === 'error') throw new Error(`session error: ${JSON.stringify(m.error)}`);
    }
  }

  /** Skips to the error message the controller sends before closing the stream. */
  async nextError(timeoutMs = 5_000): Promise<NonNullable<BrokerSessionResponse__Output['error']>> {
    for (;;) {
      const m = await this.next(timeoutMs);
      if (m.kind === 'error' && m.error) return m.error;
    }
  }

  /** Resolves once the controller has closed the stream. */
  async ended(timeoutMs = 5_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.#ended) {
      if (Date.now() > deadline) throw new Error(`stream still open after ${timeoutMs} ms`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  get isEnded(): boolean {
    return this.#ended;
  }

  close(): void {
    this.#stream.cancel();
    this.client.close();
  }

  #wake(): void {
    const w = this.#waiter;
    this.#waiter = undefined;
    w?.();
  }
}
