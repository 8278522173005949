// ControllerService handlers: the broker-facing RPCs. The session stream lives in
// broker-sessions.ts; the unary calls below answer a refused request with OK and the Sluice
// error in the response's `error` field (the contract gives every response one), so a broker
// reads one place for the outcome. Every change is persisted before it is answered.
import { asSluiceError, toErrorDetail } from '../../common/grpc-errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { ControllerServiceHandlers } from '../../proto/gen/sluice/v1/ControllerService.ts';
import type { ErrorDetail } from '../../proto/gen/sluice/v1/ErrorDetail.ts';
import { allocateProducerIds, alterPartition, controlledShutdown, findTopic } from '../core/cluster-state.ts';
import { toPartitionState } from '../core/metadata-view.ts';
import type { BrokerSessions } from './broker-sessions.ts';
import type { CommittedState } from './committed-state.ts';

export interface ControllerServiceDeps {
  readonly committed: CommittedState;
  readonly sessions: BrokerSessions;
  readonly logger: Logger;
}

export function controllerServiceHandlers({ committed, sessions, logger }: ControllerServiceDeps): ControllerServiceHandlers {
  const failure = (e: unknown, method: string): ErrorDetail => {
    const err = asSluiceError(e);
    if (err.code === 'UNKNOWN') logger.error({ err: e, method }, 'controller request failed unexpectedly');
    return toErrorDetail(err);
  };

  return {
    BrokerSession: (call) => sessions.handle(call),

    AllocateProducerIds: (call, callback) => {
      const { broker_id: brokerId, broker_epoch: brokerEpoch } = call.request;
      committed.commit((s) => allocateProducerIds(s, { brokerId, brokerEpoch })).then(
        (block) => {
          logger.info({ broker: brokerId, firstProducerId: block.firstProducerId, count: block.count }, 'producer id block allocated');
          callback(null, { first_producer_id: block.firstProducerId, count: block.count });
        },
        (e: unknown) => callback(null, { error: failure(e, 'AllocateProducerIds') }),
      );
    },

    AlterPartition: (call, callback) => {
      const r = call.request;
      committed
        .commit((s) =>
          alterPartition(s, {
            brokerId: r.broker_id,
            brokerEpoch: r.broker_epoch,
            topic: r.topic,
            partition: r.partition,
            leaderEpoch: r.leader_epoch,
            partitionEpoch: r.partition_epoch,
            newIsr: r.new_isr,
          }),
        )
        .then(
          (p) => callback(null, { state: toPartitionState(p) }),
          (e: unknown) => {
            // The committed state comes back with a refusal too, so a leader with a stale view
            // catches up without waiting for the next metadata push.
            const current = findTopic(committed.current, r.topic)?.partitions[r.partition];
            callback(null, { error: failure(e, 'AlterPartition'), state: current ? toPartitionState(current) : null });
          },
        );
    },

    ControlledShutdown: (call, callback) => {
      const { broker_id: brokerId, broker_epoch: brokerEpoch } = call.request;
      committed.commit((s) => controlledShutdown(s, { brokerId, brokerEpoch })).then(
        ({ remainingLeaderships }) => {
          logger.info({ broker: brokerId, epoch: brokerEpoch, remainingLeaderships }, 'controlled shutdown requested');
          callback(null, { remaining_leaderships: remainingLeaderships });
        },
        (e: unknown) => callback(null, { error: failure(e, 'ControlledShutdown') }),
      );
    },
  };
}
