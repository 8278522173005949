// The leader's side of ISR changes (DESIGN §5): evaluates the ISR rules for a partition it
// leads, proposes the change to the controller with AlterPartition (leader epoch + partition
// epoch as compare-and-set), keeps ONE proposal in flight per partition, and hands the answer's
// committed state back to be applied. Nothing here changes the ISR the leader acts on: a
// proposal counts only once the controller committed it (the answer, or a metadata push with a
// newer partition epoch), so a shrink is never applied early (the replica leaving could still
// be elected, and the HW must not pass data it lacks).
import type { SluiceError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { PartitionState__Output } from '../../proto/gen/sluice/v1/PartitionState.ts';
import type { AlterPartitionAnswer, AlterPartitionProposal } from '../controller-session.ts';
import type { IsrChangeInFlight, Partition } from '../partition.ts';
import { nextIsrProposal, type IsrProposal } from './isr-rules.ts';

/** After a transport failure (controller unreachable), the partition proposes again after this. */
const RETRY_AFTER_FAILURE_MS = 500;
/**
 * A proposal the controller refused is not sent again unchanged, from the same partition epoch,
 * for this long: the likely cause is a joining broker that is stopping (KIP-841), which the
 * metadata does not tell a leader, and it will be gone or fenced soon.
 */
const REFUSED_PROPOSAL_QUIET_MS = 5_000;

export interface IsrUpdaterOptions {
  brokerId: number;
  /** replica.lag.time.max.ms */
  lagTimeMaxMs: number;
  now: () => number;
  /** False for a broker the metadata shows fenced (not live): it must not rejoin an ISR. */
  isEligible: (brokerId: number) => boolean;
  /** False while this broker has no registered session (no broker epoch to propose with). */
  canPropose: () => boolean;
  alterPartition: (proposal: AlterPartitionProposal) => Promise<AlterPartitionAnswer>;
  /** Applies a state the controller answered with (the caller ignores it when stale). */
  applyCommittedState: (p: Partition, state: PartitionState__Output) => void;
  onCommitted?: (p: Partition, proposal: IsrProposal) => void;
  logger: Logger;
}

interface Quiet {
  readonly isr: string;
  readonly partitionEpoch: number;
  readonly untilMs: number;
}

export class IsrUpdater {
  readonly #o: IsrUpdaterOptions;
  readonly #retryAt = new WeakMap<Partition, number>();
  readonly #refused = new WeakMap<Partition, Quiet>();
  /** Transport failures in a row per partition: only the first of a streak is worth a warning. */
  readonly #failures = new WeakMap<Partition, number>();

  constructor(options: IsrUpdaterOptions) {
    this.#o = options;
  }

  /**
   * Proposes the ISR change the rules call for, unless one is in flight already. Cheap when
   * there is nothing to do: called after every validated follower fetch (expansion) and
   * periodically (shrink, which a silent follower never triggers by itself).
   */
  maybePropose(p: Partition): void {
    if (!p.isLeader || p.isrChangeInFlight !== null || !this.#o.canPropose()) return;
    const nowMs = this.#o.now();
    if ((this.#retryAt.get(p) ?? 0) > nowMs) return;
    const proposal = nextIsrProposal({
      leaderId: this.#o.brokerId,
      replicas: p.replicas,
      isr: p.isr,
      followers: p.followers,
      nowMs,
      lagTimeMaxMs: this.#o.lagTimeMaxMs,
      highWatermark: p.log.highWatermark,
      leaderEpochStartOffset: p.leaderEpochStartOffset,
      isEligible: this.#o.isEligible,
    });
    if (proposal === null) return;
    const quiet = this.#refused.get(p);
    if (quiet && quiet.isr === proposal.isr.join(',') && quiet.partitionEpoch === p.partitionEpoch && quiet.untilMs > nowMs) return;
    const inFlight: IsrChangeInFlight = { proposal, leaderEpoch: p.leaderEpoch, partitionEpoch: p.partitionEpoch };
    p.setIsrChangeInFlight(inFlight);
    this.#o.logger.info(
      { topic: p.topic, partition: p.partition, epoch: p.leaderEpoch, partitionEpoch: p.partitionEpoch, isr: p.isr, proposedIsr: proposal.isr, [proposal.kind === 'shrink' ? 'leaving' : 'joining']: proposal.changed },
      proposal.kind === 'shrink' ? 'proposing ISR shrink: followers lagged past replica.lag.time.max.ms' : 'proposing ISR expansion: followers caught up',
    );
    void this.#send(p, inFlight);
  }

  async #send(p: Partition, inFlight: IsrChangeInFlight): Promise<void> {
    const { proposal } = inFlight;
    let answer: AlterPartitionAnswer | undefined;
    let failure: unknown;
    try {
      answer = await this.#o.alterPartition({ topic: p.topic, partition: p.partition, leaderEpoch: inFlight.leaderEpoch, partitionEpoch: inFlight.partitionEpoch, newIsr: proposal.isr });
    } catch (err) {
      failure = err;
    }
    // Only the proposal still recorded may be settled: a leader epoch change replaced it.
    const current = p.isrChangeInFlight === inFlight;
    try {
      if (answer?.state) this.#o.applyCommittedState(p, answer.state);
    } finally {
      if (current) p.setIsrChangeInFlight(null);
    }
    const where = { topic: p.topic, partition: p.partition, epoch: inFlight.leaderEpoch, partitionEpoch: inFlight.partitionEpoch, proposedIsr: proposal.isr };
    if (failure !== undefined) {
      const streak = (this.#failures.get(p) ?? 0) + 1;
      this.#failures.set(p, streak);
      this.#retryAt.set(p, this.#o.now() + RETRY_AFTER_FAILURE_MS);
      this.#o.logger[streak === 1 ? 'warn' : 'debug']({ ...where, err: (failure as Error).message, failures: streak }, 'ISR change not answered by the controller; proposing again shortly');
    } else if (answer!.error) {
      this.#failures.delete(p);
      this.#refusal(p, inFlight, answer!.error);
    } else {
      this.#failures.delete(p);
      this.#o.logger.info({ ...where, isr: answer!.state?.isr, newPartitionEpoch: answer!.state?.partition_epoch }, `ISR ${proposal.kind} committed`);
      this.#o.onCommitted?.(p, proposal);
    }
    // Another change may be due already (a second laggard, a follower that caught up meanwhile).
    if (current) this.maybePropose(p);
  }

  #refusal(p: Partition, inFlight: IsrChangeInFlight, error: SluiceError): void {
    const where = { topic: p.topic, partition: p.partition, epoch: inFlight.leaderEpoch, partitionEpoch: inFlight.partitionEpoch, proposedIsr: inFlight.proposal.isr, code: error.code };
    switch (error.code) {
      case 'FENCED_LEADER_EPOCH':
      case 'NOT_LEADER':
      case 'UNKNOWN_TOPIC_OR_PARTITION':
        // Leadership or the topic moved on; the metadata push that says so is on its way.
        this.#o.logger.info({ ...where, err: error.message }, 'ISR change refused: this broker no longer leads in that epoch');
        return;
      case 'STALE_BROKER_EPOCH':
      case 'BROKER_NOT_AVAILABLE':
      case 'NOT_CONTROLLER':
        this.#retryAt.set(p, this.#o.now() + RETRY_AFTER_FAILURE_MS);
        this.#o.logger.warn({ ...where, err: error.message }, 'ISR change refused for now; proposing again shortly');
        return;
      default:
        // A stale partition epoch came back with the newer state (applied above), so the same
        // ISR from the new epoch is not quieted; anything else is not retried unchanged for a while.
        this.#refused.set(p, { isr: inFlight.proposal.isr.join(','), partitionEpoch: inFlight.partitionEpoch, untilMs: this.#o.now() + REFUSED_PROPOSAL_QUIET_MS });
        this.#o.logger.warn({ ...where, err: error.message }, 'ISR change refused by the controller');
    }
  }
}
