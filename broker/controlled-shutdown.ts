// Controlled shutdown (DESIGN §6): before a broker stops, it asks the controller to move its
// leaderships to other in-sync replicas, so a rolling restart costs producers a NOT_LEADER and a
// retry instead of a session timeout's worth of unavailability. The broker keeps serving (and
// applying metadata) meanwhile: it must stop acting as leader the moment the controller says so.
import type { Logger } from '../common/logger.ts';

/** How often the broker asks again while leaderships remain. */
export const CONTROLLED_SHUTDOWN_RETRY_MS = 500;
/** Bound on one ControlledShutdown call. */
const CALL_TIMEOUT_MS = 5_000;

export interface LedPartition {
  readonly isr: readonly number[];
}

/**
 * Partitions this broker leads that another live in-sync replica could take over. When none
 * can (RF=1, an ISR shrunk to the leader, every other replica stopping too), waiting for the
 * controller cannot help: it keeps such a leadership rather than take the partition offline.
 */
export function movableLeaderships(led: Iterable<LedPartition>, selfId: number, isAlive: (brokerId: number) => boolean): number {
  let n = 0;
  for (const p of led) if (p.isr.some((id) => id !== selfId && isAlive(id))) n++;
  return n;
}

export interface ControlledShutdownDeps {
  /** ControllerService.ControlledShutdown: the leaderships that remain. */
  ask(timeoutMs: number): Promise<number>;
  /** Leaderships another live in-sync replica could take, from the metadata applied so far. */
  movable(): number;
  timeoutMs: number;
  logger: Logger;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export type ControlledShutdownOutcome = 'moved' | 'nothing-movable' | 'timed-out';

/**
 * Asks until the controller reports no leadership left, nothing left could move, or the bound
 * passes. Never throws: a stop goes ahead whatever the controller says.
 */
export async function runControlledShutdown(deps: ControlledShutdownDeps): Promise<ControlledShutdownOutcome> {
  const now = deps.now ?? Date.now;
  const sleep = deps.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  const deadline = now() + deps.timeoutMs;
  for (let attempt = 1; ; attempt++) {
    let remaining: number | undefined;
    try {
      remaining = await deps.ask(Math.max(1, Math.min(CALL_TIMEOUT_MS, deadline - now())));
    } catch (err) {
      deps.logger.warn({ err: (err as Error).message, attempt }, 'controlled shutdown request failed');
    }
    if (remaining === 0) {
      deps.logger.info({ attempt }, 'controlled shutdown: the controller moved every leadership away');
      return 'moved';
    }
    if (remaining !== undefined) {
      const movable = deps.movable();
      if (movable === 0) {
        deps.logger.warn({ remaining, attempt }, 'controlled shutdown: no other live in-sync replica can take over the remaining leaderships; stopping with them');
        return 'nothing-movable';
      }
      deps.logger.info({ remaining, movable, attempt }, 'controlled shutdown: waiting for leaderships to move');
    }
    if (now() + CONTROLLED_SHUTDOWN_RETRY_MS >= deadline) {
      deps.logger.warn({ remaining, attempt, timeoutMs: deps.timeoutMs }, 'controlled shutdown did not complete in time; stopping anyway');
      return 'timed-out';
    }
    await sleep(CONTROLLED_SHUTDOWN_RETRY_MS);
  }
}
