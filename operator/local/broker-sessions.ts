// ControllerService.BrokerSession: one long-lived stream per broker incarnation (DESIGN §6,
// Liveness). The broker registers, then heartbeats; the controller answers the registration with
// a broker epoch, then pushes the full cluster metadata after registration and after every
// change. A broker not heard from for session_timeout_ms is fenced, whether its stream is still
// open (a paused process) or gone (a dead one).
//
// Liveness is tracked per broker, not per stream: a stream may drop and a reconnect of the same
// incarnation within the timeout keeps the broker active, so a network blip moves no leader.
//
// Heartbeats also report the metadata version the broker applied. A broker still behind a
// snapshot after MAX_LAGGING_HEARTBEATS heartbeats gets the current one again: a push lost in
// a write that failed quietly, or a snapshot the broker could not apply, must not leave it
// acting on an old leader and ISR until the next change happens to come along.
import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { SluiceError } from '../../common/errors.ts';
import { asSluiceError, toErrorDetail } from '../../common/grpc-errors.ts';
import type { Logger } from '../../common/logger.ts';
import type { BrokerSessionRequest__Output } from '../../proto/gen/sluice/v1/BrokerSessionRequest.ts';
import type { BrokerSessionResponse } from '../../proto/gen/sluice/v1/BrokerSessionResponse.ts';
import type { BrokerRegistration__Output } from '../../proto/gen/sluice/v1/BrokerRegistration.ts';
import type { BrokerHeartbeat__Output } from '../../proto/gen/sluice/v1/BrokerHeartbeat.ts';
import type { ClusterMetadata } from '../../proto/gen/sluice/v1/ClusterMetadata.ts';
import {
  changesBrokerMetadata,
  checkBrokerEpoch,
  fenceBroker,
  findBroker,
  registerBroker,
  type BrokerRecord,
  type BrokerRegistrationInput,
  type ClusterState,
  type FenceReason,
  type Outcome,
} from '../core/cluster-state.ts';
import { toClusterMetadata } from '../core/metadata-view.ts';
import type { Clock } from './clock.ts';
import type { CommittedState, StateChange } from './committed-state.ts';

export type SessionCall = grpc.ServerDuplexStream<BrokerSessionRequest__Output, BrokerSessionResponse>;

/** A metadata message with its version as a plain number (the message's own is int64-typed). */
interface Snapshot {
  readonly version: number;
  readonly message: ClusterMetadata;
}

interface Session {
  readonly call: SessionCall;
  readonly peer: string;
  open: boolean;
  /** Set once the registration is committed and answered. */
  broker: { id: number; incarnationId: string; epoch: number } | undefined;
  /** Messages of one stream are handled one after another, in order. */
  queue: Promise<void>;
  /**
   * Snapshots sent on this stream that the broker has not reported applied yet, oldest first,
   * each with the heartbeats that reported an older version since it was sent.
   */
  unapplied: { version: number; heartbeats: number }[];
}

interface Liveness {
  readonly incarnationId: string;
  readonly brokerEpoch: number;
  lastHeardAt: number;
  /** The stream carrying this broker's session, if one is open. */
  session: Session | undefined;
  cancelTimer: (() => void) | undefined;
  /** The metadata version the broker last reported applied (0 until its first heartbeat). */
  appliedVersion: number;
}

export interface BrokerSessionsOptions {
  readonly committed: CommittedState;
  readonly clock: Clock;
  readonly sessionTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly controllerId: number;
  /** Term stamped on every metadata push (ClusterMetadata.controller_epoch); 0 when absent. */
  readonly controllerEpoch?: number;
  readonly logger: Logger;
  /**
   * Checks a registration before it is committed, inside the commit queue: throws a SluiceError to
   * refuse it, or returns it (possibly with facts the shell knows better, such as the rack). The
   * Kubernetes shell refuses brokers whose Pod is gone or failed and takes the rack from the
   * node's zone; the local shell admits everyone as they are.
   */
  readonly admitRegistration?: (input: BrokerRegistrationInput) => BrokerRegistrationInput;
}

export interface HeartbeatSeen {
  readonly brokerId: number;
  readonly brokerEpoch: number;
  readonly metadataVersion: number;
}

export interface MetadataRepushed {
  readonly brokerId: number;
  /** What the broker reported applied. */
  readonly appliedVersion: number;
  /** The version sent again. */
  readonly version: number;
}

/**
 * Heartbeats a broker may report an older metadata version than the one sent before it is sent
 * again: applying a snapshot takes a moment, so one or two heartbeats behind are normal.
 */
export const MAX_LAGGING_HEARTBEATS = 2;

export class BrokerSessions {
  /**
   * 'heartbeat' (HeartbeatSeen) after each accepted heartbeat; 'lapsed' (broker id) after a fence
   * for silence; 'repushed' (MetadataRepushed) after metadata was sent again to a lagging broker.
   */
  readonly events = new EventEmitter();
  readonly #o: BrokerSessionsOptions;
  readonly #sessions = new Set<Session>();
  readonly #liveness = new Map<number, Liveness>();
  #snapshot: Snapshot | undefined;
  #closed = false;

  constructor(options: BrokerSessionsOptions) {
    this.#o = options;
    options.committed.onChange((change) => this.#publish(change));
    // After a controller restart no session exists yet. Brokers the file says are alive get one
    // session timeout to reconnect before they are fenced, as if they had just heartbeated.
    for (const b of options.committed.current.brokers) {
      if (b.state !== 'fenced') this.#track(b, undefined);
    }
  }

  /** Serves one BrokerSession stream. */
  handle(call: SessionCall): void {
    const session: Session = { call, peer: call.getPeer(), open: true, broker: undefined, queue: Promise.resolve(), unapplied: [] };
    if (this.#closed) {
      this.#refuse(session, new SluiceError('NOT_CONTROLLER', 'the controller is stopping; reconnect to the active controller'));
      return;
    }
    this.#sessions.add(session);
    call.on('data', (message: BrokerSessionRequest__Output) => {
      session.queue = session.queue.then(() => this.#onMessage(session, message)).catch((e: unknown) => {
        this.#o.logger.error({ err: e, peer: session.peer }, 'broker session message failed');
        this.#refuse(session, asSluiceError(e));
      });
    });
    // The broker half-closed its side: finish ours too, so the call completes.
    call.on('end', () => this.#end(session));
    call.on('cancelled', () => this.#detach(session));
    call.on('error', () => this.#detach(session));
    call.on('close', () => this.#detach(session));
  }

  /**
   * Liveness as seen now: which brokers have an open stream, how long since each was heard, and
   * which metadata version each reported applied.
   */
  describe(): { brokerId: number; brokerEpoch: number; connected: boolean; silentForMs: number; appliedMetadataVersion: number }[] {
    const now = this.#o.clock.now();
    return [...this.#liveness].map(([brokerId, l]) => ({
      brokerId,
      brokerEpoch: l.brokerEpoch,
      connected: l.session !== undefined,
      silentForMs: now - l.lastHeardAt,
      appliedMetadataVersion: l.appliedVersion,
    }));
  }

  /**
   * Fences a broker now, whatever its incarnation, as a lapsed session would be (persisted, then
   * pushed), and ends its stream: for a shell that knows the broker is gone before its session
   * lapses (its Pod was deleted or failed). Resolves with whether anything changed; rejects when
   * the change could not be persisted.
   */
  async fence(brokerId: number, reason: FenceReason, why: string): Promise<boolean> {
    if (this.#closed) return false;
    return this.#o.committed.commit(
      (state): Outcome<boolean> => {
        const outcome = fenceBroker(state, { brokerId, reason });
        return { ...outcome, result: outcome.state !== state };
      },
      (fenced) => {
        const live = this.#liveness.get(brokerId);
        if (live) {
          live.cancelTimer?.();
          this.#liveness.delete(brokerId);
          if (live.session?.open) this.#refuse(live.session, new SluiceError('BROKER_NOT_AVAILABLE', `broker ${brokerId} was fenced: ${why}`, { brokerId }));
        }
        if (fenced) this.#o.logger.warn({ broker: brokerId, reason }, `broker fenced: ${why}`);
      },
    );
  }

  /** Ends every stream (brokers reconnect to the next controller) and stops the lapse timers. */
  close(): void {
    this.#closed = true;
    for (const l of this.#liveness.values()) l.cancelTimer?.();
    this.#liveness.clear();
    for (const s of [...this.#sessions]) this.#refuse(s, new SluiceError('NOT_CONTROLLER', 'the controller is stopping; reconnect to the active controller'));
  }

  async #onMessage(session: Session, message: BrokerSessionRequest__Output): Promise<void> {
    if (!session.open) return;
    if (message.kind === 'register' && message.register) return this.#onRegister(session, message.register);
    if (message.kind === 'heartbeat' && message.heartbeat) return this.#onHeartbeat(session, message.heartbeat);
    this.#refuse(session, new SluiceError('INVALID_REQUEST', 'a BrokerSession message must carry register or heartbeat'));
  }

  async #onRegister(session: Session, reg: BrokerRegistration__Output): Promise<void> {
    const input: BrokerRegistrationInput = { brokerId: reg.broker_id, incarnationId: reg.incarnation_id, host: reg.host, port: reg.port, rack: reg.rack };
    if (session.broker) {
      if (session.broker.id === input.brokerId && session.broker.incarnationId === input.incarnationId) {
        this.#welcome(session, this.#o.committed.current);
        return;
      }
      this.#refuse(session, new SluiceError('INVALID_REQUEST', `this stream already carries the session of broker ${session.broker.id}; open a new stream to register another`));
      return;
    }
    try {
      await this.#o.committed.commit(
        (state) => {
          this.#refuseDuplicate(input, session);
          return registerBroker(state, this.#o.admitRegistration ? this.#o.admitRegistration(input) : input);
        },
        (record, state) => this.#attach(session, record, state),
      );
    } catch (e) {
      this.#refuse(session, asSluiceError(e));
    }
  }

  /**
   * Two live processes claiming one broker id would both lead partitions; the second is turned
   * away while the first keeps heartbeating. A first that is silent or disconnected is taken for
   * dead (a restarted broker), and registerBroker fences it before accepting the new one.
   */
  #refuseDuplicate(input: BrokerRegistrationInput, session: Session): void {
    const live = this.#liveness.get(input.brokerId);
    if (!live || live.incarnationId === input.incarnationId) return;
    const other = live.session;
    const silentFor = this.#o.clock.now() - live.lastHeardAt;
    if (other && other !== session && other.open && silentFor < this.#o.sessionTimeoutMs) {
      throw new SluiceError(
        'INVALID_REQUEST',
        `broker id ${input.brokerId} is already registered by a live session (incarnation ${live.incarnationId}, heard ${Math.round(silentFor)} ms ago, from ${other.peer}); ` +
          `give every broker its own id, or, if that process has just died, retry after ${this.#o.sessionTimeoutMs} ms`,
        { brokerId: input.brokerId },
      );
    }
  }

  /** Runs inside the commit, after the registration is durable: the stream now carries the session. */
  #attach(session: Session, record: BrokerRecord, state: ClusterState): void {
    const previous = this.#liveness.get(record.id)?.session;
    this.#track(record, session.open ? session : undefined);
    if (previous && previous !== session && previous.open) {
      if (previous.broker?.epoch === record.brokerEpoch) {
        this.#end(previous); // the same incarnation reconnected; its old stream is dead weight
      } else {
        this.#refuse(previous, new SluiceError('STALE_BROKER_EPOCH', `broker ${record.id} registered again as a new incarnation (epoch ${record.brokerEpoch}); this stream's incarnation is stale`, { brokerId: record.id }));
      }
    }
    if (!session.open) return; // registered, but the stream died meanwhile: the lapse timer decides
    session.broker = { id: record.id, incarnationId: record.incarnationId, epoch: record.brokerEpoch };
    this.#o.logger.info({ broker: record.id, epoch: record.brokerEpoch, peer: session.peer }, 'broker session registered');
    this.#welcome(session, state);
  }

  #welcome(session: Session, state: ClusterState): void {
    const broker = session.broker!;
    this.#send(session, {
      registered: {
        broker_epoch: broker.epoch,
        heartbeat_interval_ms: this.#o.heartbeatIntervalMs,
        session_timeout_ms: this.#o.sessionTimeoutMs,
        cluster_id: state.clusterId,
        controller_id: this.#o.controllerId,
      },
    });
    this.#sendMetadata(session, this.#snapshotOf(state));
  }

  #onHeartbeat(session: Session, hb: BrokerHeartbeat__Output): void {
    const broker = session.broker;
    if (!broker) {
      this.#refuse(session, new SluiceError('INVALID_REQUEST', 'heartbeat before registration; send register first on this stream'));
      return;
    }
    if (hb.broker_id !== broker.id) {
      this.#refuse(session, new SluiceError('INVALID_REQUEST', `heartbeat for broker ${hb.broker_id} on the session of broker ${broker.id}`));
      return;
    }
    let record: BrokerRecord;
    try {
      record = checkBrokerEpoch(this.#o.committed.current, hb.broker_id, hb.broker_epoch);
    } catch (e) {
      this.#refuse(session, asSluiceError(e));
      return;
    }
    const live = this.#liveness.get(broker.id);
    if (record.state === 'fenced' || !live || live.session !== session) {
      this.#refuse(session, new SluiceError('BROKER_NOT_AVAILABLE', `broker ${broker.id} was fenced (its session lapsed); register again to rejoin`, { brokerId: broker.id }));
      return;
    }
    live.lastHeardAt = this.#o.clock.now();
    live.appliedVersion = hb.metadata_version;
    this.#armTimer(broker.id, live);
    this.#checkApplied(session, broker.id, hb.metadata_version);
    this.events.emit('heartbeat', { brokerId: broker.id, brokerEpoch: hb.broker_epoch, metadataVersion: hb.metadata_version } satisfies HeartbeatSeen);
  }

  /** Counts heartbeats behind each unapplied snapshot; past the limit, sends the current one again. */
  #checkApplied(session: Session, brokerId: number, applied: number): void {
    session.unapplied = session.unapplied.filter((u) => u.version > applied);
    for (const u of session.unapplied) u.heartbeats++;
    const oldest = session.unapplied[0];
    if (!oldest || oldest.heartbeats <= MAX_LAGGING_HEARTBEATS) return;
    const snapshot = this.#snapshotOf(this.#o.committed.current);
    this.#o.logger.warn(
      { broker: brokerId, appliedVersion: applied, awaitedVersion: oldest.version, version: snapshot.version, heartbeats: oldest.heartbeats },
      'broker has not applied the metadata sent to it; sending the current snapshot again',
    );
    // The current snapshot supersedes every one still waiting: brokers apply whole snapshots.
    session.unapplied = [];
    this.#sendMetadata(session, snapshot);
    this.events.emit('repushed', { brokerId, appliedVersion: applied, version: snapshot.version } satisfies MetadataRepushed);
  }

  #track(record: BrokerRecord, session: Session | undefined): void {
    const old = this.#liveness.get(record.id);
    old?.cancelTimer?.();
    const live: Liveness = { incarnationId: record.incarnationId, brokerEpoch: record.brokerEpoch, lastHeardAt: this.#o.clock.now(), session, cancelTimer: undefined, appliedVersion: old?.appliedVersion ?? 0 };
    this.#liveness.set(record.id, live);
    this.#armTimer(record.id, live);
  }

  #armTimer(brokerId: number, live: Liveness): void {
    live.cancelTimer?.();
    if (this.#closed) return;
    const due = live.lastHeardAt + this.#o.sessionTimeoutMs - this.#o.clock.now();
    live.cancelTimer = this.#o.clock.setTimer(() => this.#lapse(brokerId, live), Math.max(0, due));
  }

  /** Fences a broker whose session lapsed (persisted, then pushed), then ends its stream. */
  #lapse(brokerId: number, live: Liveness): void {
    live.cancelTimer = undefined;
    if (this.#closed || this.#liveness.get(brokerId) !== live) return;
    const lapsed = () => this.#o.clock.now() - live.lastHeardAt >= this.#o.sessionTimeoutMs;
    this.#o.committed
      .commit(
        (state): Outcome<boolean> => {
          // A heartbeat may have arrived while this waited for earlier changes.
          if (!lapsed() || this.#liveness.get(brokerId) !== live) return { state, events: [], result: false };
          return { ...fenceBroker(state, { brokerId, brokerEpoch: live.brokerEpoch, reason: 'session_expired' }), result: true };
        },
        (fenced) => {
          if (!fenced) {
            // Timers may fire a hair early (setTimeout vs performance.now): without re-arming, a
            // dead broker that never heartbeats again would stay leader forever.
            if (this.#liveness.get(brokerId) === live && !live.cancelTimer) this.#armTimer(brokerId, live);
            return;
          }
          this.#liveness.delete(brokerId);
          this.#o.logger.warn({ broker: brokerId, epoch: live.brokerEpoch, timeoutMs: this.#o.sessionTimeoutMs }, 'broker session lapsed; broker fenced');
          if (live.session?.open) {
            this.#refuse(
              live.session,
              new SluiceError(
                'REQUEST_TIMED_OUT',
                `no heartbeat from broker ${brokerId} for ${this.#o.sessionTimeoutMs} ms (session_timeout_ms): it was fenced, out of every ISR and leading nothing; register again to rejoin`,
                { brokerId },
              ),
            );
          }
          this.events.emit('lapsed', brokerId);
        },
      )
      .catch((e: unknown) => {
        // Not fenced, so still counted alive: try again rather than keep a dead leader forever.
        this.#o.logger.error({ err: e, broker: brokerId }, 'could not fence a lapsed broker; retrying');
        if (this.#liveness.get(brokerId) === live && !this.#closed) live.cancelTimer = this.#o.clock.setTimer(() => this.#lapse(brokerId, live), this.#o.heartbeatIntervalMs);
      });
  }

  /** The stream is gone (ended, cancelled, failed or closed by us). Idempotent. */
  #detach(session: Session): void {
    if (!this.#sessions.delete(session) && !session.open) return;
    session.open = false;
    const broker = session.broker;
    if (!broker) return;
    const live = this.#liveness.get(broker.id);
    if (!live || live.session !== session) return;
    live.session = undefined;
    // A broker that asked for a controlled shutdown and then closed its stream has stopped:
    // fence it now instead of a session timeout later, so the partitions it still led move at once.
    const record = findBroker(this.#o.committed.current, broker.id);
    if (record?.state === 'shutting_down' && record.brokerEpoch === broker.epoch && !this.#closed) {
      this.#o.committed
        .commit((state) => fenceBroker(state, { brokerId: broker.id, brokerEpoch: broker.epoch, reason: 'session_closed' }), () => {
          if (this.#liveness.get(broker.id) === live && live.session === undefined) {
            live.cancelTimer?.();
            this.#liveness.delete(broker.id);
          }
        })
        .catch((e: unknown) => this.#o.logger.error({ err: e, broker: broker.id }, 'could not fence a stopped broker; its session timeout will'));
    }
  }

  #publish(change: StateChange): void {
    if (!changesBrokerMetadata(change.events)) return;
    const snapshot = this.#snapshotOf(change.state);
    for (const s of this.#sessions) if (s.broker) this.#sendMetadata(s, snapshot);
  }

  #sendMetadata(session: Session, snapshot: Snapshot): void {
    this.#send(session, { metadata: snapshot.message });
    // Each snapshot counts from its own send: a broker that applies nothing must not escape the
    // limit because newer snapshots keep coming, nor a newer one be blamed for an older delay.
    if (session.open) session.unapplied.push({ version: snapshot.version, heartbeats: 0 });
  }

  #snapshotOf(state: ClusterState): Snapshot {
    if (this.#snapshot?.version !== state.metadataVersion) {
      this.#snapshot = { version: state.metadataVersion, message: toClusterMetadata(state, this.#o.controllerId, this.#o.controllerEpoch) };
    }
    return this.#snapshot;
  }

  #send(session: Session, message: BrokerSessionResponse): void {
    if (!session.open) return;
    try {
      session.call.write(message);
    } catch (e) {
      this.#o.logger.warn({ err: e, peer: session.peer }, 'could not write to a broker session');
      this.#detach(session);
    }
  }

  /** Sends the error, then ends the stream. */
  #refuse(session: Session, err: SluiceError): void {
    if (session.open) {
      this.#o.logger.info({ broker: session.broker?.id, peer: session.peer, code: err.code }, `broker session ended: ${err.message}`);
    }
    this.#send(session, { error: toErrorDetail(err) });
    this.#end(session);
  }

  #end(session: Session): void {
    const wasOpen = session.open;
    this.#detach(session);
    if (!wasOpen) return;
    try {
      session.call.end();
    } catch {
      // Already ended by the peer: nothing left to close.
    }
  }
}
