// The broker's gRPC server: the sluice.v1 services plus grpc.health.v1 (Kubernetes gRPC probes,
// `grpcurl ... grpc.health.v1.Health/Check`) and server reflection (so grpcurl needs no .proto
// files), as DESIGN §8 requires of every Sluice server.
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation } from 'grpc-health-check';
import { GRPC_SERVER_OPTIONS, loadSluiceProto, shutdownGrpcServer } from '../common/proto.ts';
import type { AdminServiceHandlers } from '../proto/gen/sluice/v1/AdminService.ts';
import type { LogServiceHandlers } from '../proto/gen/sluice/v1/LogService.ts';
import type { MetadataServiceHandlers } from '../proto/gen/sluice/v1/MetadataService.ts';
import type { ReplicaServiceHandlers } from '../proto/gen/sluice/v1/ReplicaService.ts';
import type { RequestObserver } from './broker-metrics.ts';
import { refuseMalformedRequests, tolerantServiceDefinition } from './malformed-request.ts';
import { timeUnaryCalls } from './request-timing.ts';

/** Services whose health status follows the broker's readiness; '' is the whole server. */
const HEALTH_SERVICES = ['', 'sluice.v1.LogService', 'sluice.v1.MetadataService', 'sluice.v1.AdminService', 'sluice.v1.ReplicaService'];

export interface BrokerServices {
  log: LogServiceHandlers;
  metadata: MetadataServiceHandlers;
  admin: AdminServiceHandlers;
  replica: ReplicaServiceHandlers;
}

export class BrokerGrpcServer {
  readonly #server: grpc.Server;
  readonly #health: HealthImplementation;

  constructor(services: BrokerServices, observe: RequestObserver) {
    const { proto, definition } = loadSluiceProto();
    this.#server = new grpc.Server(GRPC_SERVER_OPTIONS);
    const add = (service: grpc.ServiceDefinition, handlers: grpc.UntypedServiceImplementation): void => {
      this.#server.addService(tolerantServiceDefinition(service), timeUnaryCalls(service, refuseMalformedRequests(service, handlers), observe));
    };
    add(proto.sluice.v1.LogService.service, services.log);
    add(proto.sluice.v1.MetadataService.service, services.metadata);
    add(proto.sluice.v1.AdminService.service, services.admin);
    add(proto.sluice.v1.ReplicaService.service, services.replica);
    // Not serving until the first cluster metadata is applied: before that every request
    // would fail with UNKNOWN_TOPIC_OR_PARTITION, which a probe should not call healthy.
    this.#health = new HealthImplementation(Object.fromEntries(HEALTH_SERVICES.map((s) => [s, 'NOT_SERVING'])));
    this.#health.addToServer(this.#server);
    new ReflectionService(definition).addToServer(this.#server);
  }

  /** Binds host:port (port 0 = any free port) and returns the bound port. */
  bind(host: string, port: number): Promise<number> {
    const address = host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
    return new Promise((resolve, reject) => {
      this.#server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => {
        if (err) reject(err);
        else resolve(bound);
      });
    });
  }

  setServing(serving: boolean): void {
    for (const service of HEALTH_SERVICES) this.#health.setStatus(service, serving ? 'SERVING' : 'NOT_SERVING');
  }

  /**
   * Stops accepting calls and lets the ones in flight finish; after timeoutMs the remaining
   * ones are cut off, so a stuck client cannot hold a stopping broker forever.
   */
  shutdown(timeoutMs: number): Promise<void> {
    return shutdownGrpcServer(this.#server, timeoutMs);
  }
}
