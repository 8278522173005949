// The controller's Prometheus metrics (DESIGN §10), in a registry of its own so that tests and
// embedded processes never share or double-register series.
import { Counter, Gauge, Registry } from 'prom-client';
import { collectProcessMetrics } from '../../common/process-metrics.ts';
import { PARTITION_CHANGE_REASONS, type ClusterState } from '../core/cluster-state.ts';
import { electionsIn } from '../core/election-history.ts';
import { offlinePartitionCount } from '../core/metadata-view.ts';
import type { StateChange } from './committed-state.ts';

const BROKER_STATES = ['active', 'shutting_down', 'fenced'] as const;

export class ControllerMetrics {
  readonly registry = new Registry();
  readonly #active: Gauge;
  readonly #elections: Counter<'reason' | 'unclean'>;
  readonly #repushes: Counter<'broker'>;

  /** `current` is read at scrape time, so state-derived gauges are never stale. */
  constructor(current: () => ClusterState) {
    collectProcessMetrics(this.registry);
    this.#active = new Gauge({
      name: 'sluice_controller_active',
      help: '1 while this process is the active controller and serving, 0 otherwise.',
      registers: [this.registry],
    });
    new Gauge({
      name: 'sluice_offline_partitions',
      help: 'Partitions without a leader: no live in-sync replica (and unclean election off).',
      registers: [this.registry],
      collect() {
        this.set(offlinePartitionCount(current()));
      },
    });
    new Gauge({
      name: 'sluice_brokers',
      help: 'Registered brokers by state: active, shutting_down (controlled shutdown), fenced (session lapsed).',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        for (const state of BROKER_STATES) this.set({ state }, current().brokers.filter((b) => b.state === state).length);
      },
    });
    new Gauge({
      name: 'sluice_controller_metadata_version',
      help: 'Version of the committed cluster metadata; brokers report the version they applied in heartbeats.',
      registers: [this.registry],
      collect() {
        this.set(current().metadataVersion);
      },
    });
    this.#elections = new Counter({
      name: 'sluice_leader_elections_total',
      help:
        'Partition leader elections that produced a leader, by reason (fenced, registered, controlled_shutdown, unclean_enabled, preferred, reassignment); ' +
        'unclean="true" ones chose a leader outside the committed ISR and may have lost acknowledged records.',
      labelNames: ['reason', 'unclean'],
      registers: [this.registry],
    });
    // Every series exists from the start at 0, so increase() and rate() see a process's first
    // election of each kind (a series born at 1 shows no increase).
    for (const reason of PARTITION_CHANGE_REASONS) {
      for (const unclean of ['false', 'true']) this.#elections.inc({ reason, unclean }, 0);
    }
    this.#repushes = new Counter({
      name: 'sluice_controller_metadata_repushes_total',
      help: 'Metadata snapshots sent again to a broker that kept reporting an older applied version (a lost or failed push).',
      labelNames: ['broker'],
      registers: [this.registry],
    });
  }

  setActive(active: boolean): void {
    this.#active.set(active ? 1 : 0);
  }

  record(change: StateChange): void {
    for (const e of electionsIn(change.events)) this.#elections.inc({ reason: e.reason, unclean: String(e.unclean) });
  }

  countRepush(brokerId: number): void {
    this.#repushes.inc({ broker: String(brokerId) });
  }
}
