// The one owner of the controller's current state. Changes run one at a time, in arrival order:
// the pure transition computes the next state, the store makes it durable, and only then do
// listeners push it to brokers and the caller answer (DESIGN §6: persisted before acted on).
// A crash at any point therefore leaves on disk at least everything anyone was told.
import { SluiceError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { ClusterEvent, ClusterState, Outcome } from '../core/cluster-state.ts';
import { StateConflictError, StateWriteError, type StatePersister } from './state-store.ts';

export interface StateChange {
  readonly previous: ClusterState;
  readonly state: ClusterState;
  readonly events: readonly ClusterEvent[];
}

export class CommittedState {
  #state: ClusterState;
  readonly #store: StatePersister;
  readonly #logger: Logger;
  readonly #listeners: ((change: StateChange) => void)[] = [];
  #tail: Promise<unknown> = Promise.resolve();
  /** Set once the file may hold a change memory does not: no further change is safe. */
  #broken: SluiceError | undefined;

  constructor(store: StatePersister, initial: ClusterState, logger: Logger) {
    this.#store = store;
    this.#state = initial;
    this.#logger = logger;
  }

  get current(): ClusterState {
    return this.#state;
  }

  /** False after a persistence failure that left the file in an unknown state. */
  get healthy(): boolean {
    return this.#broken === undefined;
  }

  /** Called after every persisted change, in order, before the change's caller is answered. */
  onChange(listener: (change: StateChange) => void): void {
    this.#listeners.push(listener);
  }

  /**
   * Runs `transition` on the current state after every earlier change, persists its result,
   * notifies listeners, then runs `after` (still before any later change starts) and resolves
   * with the transition's result. A refused request (the transition throws) changes nothing.
   */
  commit<T>(transition: (state: ClusterState) => Outcome<T>, after?: (result: T, state: ClusterState) => void): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.#broken) throw this.#broken;
      const previous = this.#state;
      const outcome = transition(previous);
      if (outcome.state !== previous) {
        await this.#persist(outcome.state, previous.metadataVersion);
        this.#state = outcome.state;
        const change: StateChange = { previous, state: outcome.state, events: outcome.events };
        for (const listener of this.#listeners) {
          try {
            listener(change);
          } catch (e) {
            this.#logger.error({ err: e }, 'state change listener failed');
          }
        }
      }
      if (after) {
        try {
          after(outcome.result, this.#state);
        } catch (e) {
          this.#logger.error({ err: e }, 'post-commit step failed');
        }
      }
      return outcome.result;
    };
    const result = this.#tail.then(run);
    this.#tail = result.catch(() => undefined);
    return result;
  }

  /** Resolves once every change queued so far has finished. */
  async idle(): Promise<void> {
    for (let tail = this.#tail; ; tail = this.#tail) {
      await tail;
      if (tail === this.#tail) return;
    }
  }

  async #persist(next: ClusterState, expectedVersion: number): Promise<void> {
    try {
      await this.#store.save(next, expectedVersion);
    } catch (e) {
      const reason = (e as Error).message;
      if (e instanceof StateWriteError && e.diskState === 'unchanged') {
        this.#logger.error({ err: e, version: next.metadataVersion }, 'could not persist controller state; the change was refused');
        throw new SluiceError('STORAGE_ERROR', `the controller could not persist the change, so nothing changed: ${reason}`, {}, { cause: e });
      }
      this.#broken =
        e instanceof StateConflictError
          ? new SluiceError('NOT_CONTROLLER', `this controller no longer owns its state file: ${reason}; stop one of the controllers`, {}, { cause: e })
          : new SluiceError('STORAGE_ERROR', `the controller state file may or may not hold the last change (${reason}); restart the controller so it resumes from the file`, {}, { cause: e });
      this.#logger.fatal({ err: e, version: next.metadataVersion }, 'controller state is no longer trustworthy; refusing every further change until restart');
      throw this.#broken;
    }
  }
}
