// prom-client's default process_* and nodejs_* metrics, minus the three gauges whose names end
// in `_total` (nodejs_active_{handles,requests,resources}_total): `promtool check metrics`
// rejects a non-counter with that suffix, and the same numbers remain in the per-type gauges
// nodejs_active_handles, nodejs_active_requests and nodejs_active_resources.
import { collectDefaultMetrics, type Registry } from 'prom-client';

const MISNAMED_GAUGES = ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total'];

export function collectProcessMetrics(registry: Registry): void {
  collectDefaultMetrics({ register: registry });
  for (const name of MISNAMED_GAUGES) registry.removeSingleMetric(name);
}
