// The operator's Prometheus metrics (DESIGN §10): the controller's own (sluice_controller_active,
// offline partitions, elections by reason, brokers by state — ControllerMetrics, shared with the
// local shell) plus what only an operator has: reconcile duration and errors, informer restarts,
// Lease transitions seen. One registry per process.
import { Counter, Histogram } from 'prom-client';
import type { ClusterState } from '../core/cluster-state.ts';
import { ControllerMetrics } from '../local/controller-metrics.ts';

export class OperatorMetrics {
  readonly controller: ControllerMetrics;
  readonly #duration: Histogram<'kind'>;
  readonly #errors: Counter<'kind'>;
  readonly #informerRestarts: Counter<'informer'>;
  readonly #leaderChanges: Counter;

  /** `current` is the active state while this process leads, undefined otherwise. */
  constructor(current: () => ClusterState | undefined) {
    const empty: ClusterState = { clusterId: '', metadataVersion: 0, nextBrokerEpoch: 1, nextProducerId: 1, brokers: [], topics: [] };
    this.controller = new ControllerMetrics(() => current() ?? empty);
    const registers = [this.controller.registry];
    this.#duration = new Histogram({
      name: 'sluice_operator_reconcile_duration_seconds',
      help: 'Time one reconcile took, by kind (topic: one Topic; brokers: broker Pods and Nodes against broker liveness).',
      labelNames: ['kind'],
      buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.#errors = new Counter({ name: 'sluice_operator_reconcile_errors_total', help: 'Reconciles that failed and were retried with backoff, by kind.', labelNames: ['kind'], registers });
    this.#informerRestarts = new Counter({
      name: 'sluice_operator_informer_restarts_total',
      help: 'Informers (list+watch) restarted after an error or a stalled watch, by informer (topics, pods, nodes).',
      labelNames: ['informer'],
      registers,
    });
    this.#leaderChanges = new Counter({ name: 'sluice_operator_leadership_changes_total', help: 'Times this process started or stopped being the active controller.', registers });
  }

  get registry() {
    return this.controller.registry;
  }

  reconcileDuration(kind: string, seconds: number): void {
    this.#duration.observe({ kind }, seconds);
  }

  reconcileError(kind: string): void {
    this.#errors.inc({ kind });
  }

  informerRestarted(informer: string): void {
    this.#informerRestarts.inc({ informer });
  }

  leadershipChanged(active: boolean): void {
    this.#leaderChanges.inc();
    this.controller.setActive(active);
  }
}
