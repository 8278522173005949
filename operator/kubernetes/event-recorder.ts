// Kubernetes Events about Topics (DESIGN §6): elections, reassignments, refusals, creation and
// deletion, so `kubectl describe topic` tells what the operator did and why. core/v1 Events,
// which kubectl describe lists. Recording never fails a reconcile: an Event that cannot be
// written is logged and dropped. The same (object, reason, message) again within ten minutes
// bumps the existing Event's count instead of adding one, as client-go's recorder does.
import { ApiException, PatchStrategy, setHeaderOptions, type CoreV1Api, type CoreV1Event } from '@kubernetes/client-node';
import type { Logger } from '../../common/logger.ts';
import { TOPIC_API_VERSION, TOPIC_KIND } from './topic-crd.ts';
import type { TopicObject } from './topic-resource.ts';

export const EVENT_SOURCE = 'sluice-operator';
const AGGREGATION_WINDOW_MS = 10 * 60_000;
const MAX_MESSAGE = 1024;

export type EventType = 'Normal' | 'Warning';

export interface RecordedEvent {
  readonly type: EventType;
  readonly reason: string;
  readonly message: string;
}

export class EventRecorder {
  readonly #api: CoreV1Api;
  readonly #namespace: string;
  readonly #instance: string;
  readonly #logger: Logger;
  readonly #recent = new Map<string, { name: string; count: number; at: number }>();

  constructor(api: CoreV1Api, namespace: string, instance: string, logger: Logger) {
    this.#api = api;
    this.#namespace = namespace;
    this.#instance = instance;
    this.#logger = logger;
  }

  /** Records an Event about a Topic; resolves once written (or dropped), never rejects. */
  async record(topic: TopicObject, event: RecordedEvent): Promise<void> {
    const message = event.message.length > MAX_MESSAGE ? `${event.message.slice(0, MAX_MESSAGE - 1)}…` : event.message;
    const key = `${topic.metadata.uid}|${event.reason}|${message}`;
    const now = new Date();
    const at = performance.now();
    for (const [k, v] of this.#recent) if (at - v.at > AGGREGATION_WINDOW_MS) this.#recent.delete(k);
    const seen = this.#recent.get(key);
    try {
      if (seen) {
        seen.count++;
        seen.at = at;
        await this.#api.patchNamespacedEvent(
          { name: seen.name, namespace: this.#namespace, body: { count: seen.count, lastTimestamp: formatTime(now) } },
          setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
        );
        return;
      }
      const body: CoreV1Event = {
        metadata: { generateName: `${topic.metadata.name}.`, namespace: this.#namespace },
        involvedObject: {
          apiVersion: TOPIC_API_VERSION,
          kind: TOPIC_KIND,
          name: topic.metadata.name,
          namespace: this.#namespace,
          uid: topic.metadata.uid,
          resourceVersion: topic.metadata.resourceVersion,
        },
        type: event.type,
        reason: event.reason,
        message,
        count: 1,
        firstTimestamp: formatTime(now) as unknown as Date,
        lastTimestamp: formatTime(now) as unknown as Date,
        source: { component: EVENT_SOURCE },
        reportingComponent: `sluice.dev/${EVENT_SOURCE}`,
        reportingInstance: this.#instance,
      };
      const created = await this.#api.createNamespacedEvent({ namespace: this.#namespace, body });
      this.#recent.set(key, { name: created.metadata?.name ?? '', count: 1, at });
    } catch (e) {
      if (seen && e instanceof ApiException && e.code === 404) this.#recent.delete(key);
      this.#logger.warn({ err: e, topicObject: topic.metadata.name, reason: event.reason }, 'could not record a Kubernetes Event');
    }
  }
}

function formatTime(d: Date): string {
  return `${d.toISOString().slice(0, 19)}Z`;
}
