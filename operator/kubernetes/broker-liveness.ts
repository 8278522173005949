// Broker liveness from Pods and Nodes (DESIGN §6): a broker whose Pod is deleted, failed or
// evicted, or whose node is not ready, is fenced at once — as a lapsed session would be, without
// waiting for the session timeout — and may not register again from that Pod. The rack a broker
// registers with is its node's zone.
//
// Each registration is bound to the Pod it was admitted from (by uid), so that:
// * a Pod deleted outright (grace period 0, `kubectl delete --force`) fences its broker even when
//   the StatefulSet has already created the replacement Pod of the same name and ordinal;
// * the process of a deleted Pod that still runs (a force-deleted Pod on a partitioned node)
//   cannot register again on the strength of its replacement;
// * a Pod deleted gracefully (Terminating) does not fence its broker while the broker's session
//   lives: the kubelet sends SIGTERM, and the broker's controlled shutdown moves its leaderships
//   away cleanly (reason controlled_shutdown) before it closes its session (which fences it).
//   Its broker is fenced as soon as its session stream closes without that (a SIGKILLed process),
//   when the session lapses (a hung one), or when the Pod object goes, fails or loses its node.
//
// Bindings live in this process only. After an operator failover the new leader binds brokers as
// they register again; until then it judges a broker by the Pods of its ordinal, and leaves a
// terminating one to its session timeout.
import { SluiceError } from '../../common/errors.ts';
import type { Logger } from '../../common/logger.ts';
import { findBroker, type BrokerRegistrationInput } from '../core/cluster-state.ts';
import type { BrokerSessions } from '../local/broker-sessions.ts';
import type { CommittedState } from '../local/committed-state.ts';
import { judgePod, podVerdict, type NodeLike, type PodLike, type PodRef, type PodVerdict } from './broker-pods.ts';
import type { ReconcileResult } from './work-queue.ts';

export interface BrokerLivenessOptions {
  readonly pods: () => readonly PodLike[];
  readonly nodes: () => readonly NodeLike[];
  readonly committed: CommittedState;
  readonly logger: Logger;
  /** While a live broker's Pod is terminating, how often its session is checked (the heartbeat interval). */
  readonly terminatingPollMs: number;
}

interface Binding {
  readonly brokerId: number;
  readonly pod: PodRef;
}

/** Incarnations remembered per broker id: enough to refuse the stale processes of recent Pods. */
const BINDINGS_PER_BROKER = 8;

export class BrokerLiveness {
  readonly #o: BrokerLivenessOptions;
  #sessions: BrokerSessions | undefined;
  /** Incarnation id -> the Pod its registration was admitted from, oldest first. */
  readonly #bindings = new Map<string, Binding>();

  constructor(options: BrokerLivenessOptions) {
    this.#o = options;
  }

  attach(sessions: BrokerSessions): void {
    this.#sessions = sessions;
  }

  /** The Pod a broker incarnation registered from, if it registered with this process. */
  podOf(incarnationId: string): PodRef | undefined {
    return this.#bindings.get(incarnationId)?.pod;
  }

  /** BrokerSessions' admission check: runs inside the commit of the registration. */
  admit = (input: BrokerRegistrationInput): BrokerRegistrationInput => {
    const pods = this.#o.pods();
    const nodes = this.#o.nodes();
    const record = findBroker(this.#o.committed.current, input.brokerId);
    // The same incarnation reconnecting while it is still registered (a dropped stream, or a new
    // active operator): a broker in its controlled shutdown may do that from a terminating Pod.
    const reconnect = record !== undefined && record.incarnationId === input.incarnationId && record.state !== 'fenced';
    const bound = this.#bindings.get(input.incarnationId);
    let verdict: PodVerdict;
    if (bound && bound.brokerId === input.brokerId) {
      const pod = pods.find((p) => p.metadata?.uid === bound.pod.uid);
      verdict = pod ? judgePod(pod, nodes) : { state: 'lost', why: `its Pod ${bound.pod.name} (uid ${bound.pod.uid}) was deleted` };
    } else {
      verdict = podVerdict(input.brokerId, pods, nodes);
    }
    if (!(verdict.state === 'running' || (verdict.state === 'terminating' && reconnect))) {
      throw new SluiceError(
        'BROKER_NOT_AVAILABLE',
        `broker ${input.brokerId} may not register: ${verdict.why}; it can register once a Pod with ordinal ${input.brokerId} is Running on a ready node (a process of a deleted Pod never can)`,
        { brokerId: input.brokerId },
      );
    }
    this.#bind(input.incarnationId, input.brokerId, verdict.pod);
    // The node's zone is the truth in Kubernetes; a rack the broker was configured with is kept
    // only where nodes carry none.
    return verdict.state === 'running' && verdict.rack ? { ...input, rack: verdict.rack } : input;
  };

  /**
   * Fences every live broker whose Pod is lost, or terminating with its session gone.
   * Level-triggered: run it on any Pod or Node change; it asks to run again while a live broker's
   * Pod is terminating, to notice its session closing.
   */
  async reconcile(): Promise<ReconcileResult> {
    const sessions = this.#sessions;
    if (!sessions) return {};
    const pods = this.#o.pods();
    const nodes = this.#o.nodes();
    const connected = new Set(sessions.describe().filter((d) => d.connected).map((d) => d.brokerId));
    let watchTerminating = false;
    for (const b of this.#o.committed.current.brokers) {
      if (b.state === 'fenced') continue;
      const bound = this.#bindings.get(b.incarnationId);
      let verdict: PodVerdict;
      if (bound && bound.brokerId === b.id) {
        const pod = pods.find((p) => p.metadata?.uid === bound.pod.uid);
        verdict = pod ? judgePod(pod, nodes) : { state: 'lost', why: `Pod ${bound.pod.name} (uid ${bound.pod.uid}) was deleted` };
      } else {
        verdict = podVerdict(b.id, pods, nodes);
      }
      let why: string | undefined;
      if (verdict.state === 'lost') why = verdict.why;
      else if (verdict.state === 'terminating') {
        // Registered from this very Pod and no longer connected: the process stopped without a
        // controlled shutdown (or finished one that left it leading). Not bound: a new active
        // operator cannot tell which Pod it runs in; its session timeout decides.
        if (bound && !connected.has(b.id)) why = `${verdict.why} and broker ${b.id}'s session stream closed`;
        else watchTerminating = true;
      }
      if (why === undefined) continue;
      this.#o.logger.warn({ broker: b.id, epoch: b.brokerEpoch, why }, 'broker pod lost; fencing the broker');
      await sessions.fence(b.id, 'pod_lost', why);
    }
    return watchTerminating ? { requeueAfterMs: this.#o.terminatingPollMs } : {};
  }

  #bind(incarnationId: string, brokerId: number, pod: PodRef): void {
    this.#bindings.delete(incarnationId);
    this.#bindings.set(incarnationId, { brokerId, pod });
    const mine = [...this.#bindings].filter(([, b]) => b.brokerId === brokerId);
    for (const [incarnation] of mine.slice(0, Math.max(0, mine.length - BINDINGS_PER_BROKER))) this.#bindings.delete(incarnation);
  }
}
