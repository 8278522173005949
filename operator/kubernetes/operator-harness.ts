// Test support for the Kubernetes shell (not used in production): the Kubernetes API double with
// the real Topic CRD, broker Pods and Nodes as a StatefulSet and a cluster would have them, and
// fake brokers — BrokerSessionDouble clients that register, heartbeat the metadata version they
// were sent, and keep the latest snapshot.
import { CustomObjectsApi, type KubeConfig } from '@kubernetes/client-node';
import { fileURLToPath } from 'node:url';
import type { ClusterMetadata__Output } from '../../proto/gen/sluice/v1/ClusterMetadata.ts';
import type { ErrorDetail__Output } from '../../proto/gen/sluice/v1/ErrorDetail.ts';
import { kubeConfigFor } from '../../test/support/kube-api/client-node-helpers.ts';
import { KubeApiDouble, readCrdFile, type KubeObject } from '../../test/support/kube-api/kube-api-double.ts';
import { BrokerSessionDouble, controllerClient, unary } from '../local/broker-session-double.ts';
import { CRD_FILE, TOPIC_API_VERSION, TOPIC_GROUP, TOPIC_KIND, TOPIC_PLURAL, TOPIC_VERSION } from './topic-crd.ts';
import type { TopicObject, TopicSpec } from './topic-resource.ts';

export const NAMESPACE = 'sluice';
export const BROKER_LABELS = { 'app.kubernetes.io/name': 'sluice', 'app.kubernetes.io/component': 'broker' };
export const BROKER_SELECTOR = 'app.kubernetes.io/component=broker';
export const STATEFULSET = 'sluice-broker';

export class KubeFixture {
  readonly kube: KubeApiDouble;
  readonly kubeConfig: KubeConfig;
  readonly topics: CustomObjectsApi;

  private constructor(kube: KubeApiDouble) {
    this.kube = kube;
    this.kubeConfig = kubeConfigFor(kube);
    this.topics = this.kubeConfig.makeApiClient(CustomObjectsApi);
  }

  /**
   * `podTerminationDelayMs`: the simulated kubelet (default 'manual': a gracefully deleted Pod stays
   * Terminating until the test calls finishPodTermination, as a kubelet removes it only once its
   * container has stopped).
   */
  static async start(options: { podTerminationDelayMs?: number | 'manual' } = {}): Promise<KubeFixture> {
    const root = fileURLToPath(new URL('../..', import.meta.url));
    return new KubeFixture(await KubeApiDouble.start({ crds: [readCrdFile(`${root}/${CRD_FILE}`)], podTerminationDelayMs: options.podTerminationDelayMs ?? 'manual' }));
  }

  stop(): Promise<void> {
    return this.kube.stop();
  }

  /** A ready Node in a zone. */
  addNode(name: string, zone: string): void {
    this.kube.create('nodes', {
      metadata: { name, labels: { 'topology.kubernetes.io/zone': zone } },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    });
  }

  setNodeReady(name: string, ready: boolean): void {
    const node = this.kube.get('nodes', name);
    this.kube.replaceStatus('nodes', { ...node, status: { conditions: [{ type: 'Ready', status: ready ? 'True' : 'Unknown' }] } });
  }

  /** The Pod of broker `ordinal` of the StatefulSet, Running on `node` (created Pending, as a kubelet would move it on). */
  addBrokerPod(ordinal: number, node: string): KubeObject {
    const name = `${STATEFULSET}-${ordinal}`;
    const pod = this.kube.create('pods', {
      metadata: { name, namespace: NAMESPACE, labels: { ...BROKER_LABELS, 'apps.kubernetes.io/pod-index': String(ordinal) } },
      spec: { nodeName: node, containers: [{ name: 'broker', image: 'sluice/broker:test' }] },
    });
    return this.kube.replaceStatus('pods', { ...pod, status: { phase: 'Running' } });
  }

  /** Deletes the Pod of broker `ordinal` outright (grace period 0: `kubectl delete --force`): it is gone at once. */
  deletePod(ordinal: number): void {
    this.kube.delete('pods', `${STATEFULSET}-${ordinal}`, NAMESPACE, { gracePeriodSeconds: 0 });
  }

  /** Deletes the Pod of broker `ordinal` gracefully (`kubectl delete pod`): it is Terminating until finishPodTermination. */
  terminatePod(ordinal: number): KubeObject {
    return this.kube.delete('pods', `${STATEFULSET}-${ordinal}`, NAMESPACE) as KubeObject;
  }

  /** The kubelet, once the Pod's container has stopped: the Terminating Pod is removed (if it is still that Pod). */
  finishPodTermination(ordinal: number, uid: string): void {
    this.kube.delete('pods', `${STATEFULSET}-${ordinal}`, NAMESPACE, { gracePeriodSeconds: 0, preconditions: { uid } });
  }

  pod(ordinal: number): KubeObject | undefined {
    return this.kube.find('pods', `${STATEFULSET}-${ordinal}`, NAMESPACE);
  }

  async createTopic(name: string, spec: TopicSpec): Promise<TopicObject> {
    return (await this.topics.createNamespacedCustomObject({
      group: TOPIC_GROUP,
      version: TOPIC_VERSION,
      plural: TOPIC_PLURAL,
      namespace: NAMESPACE,
      body: { apiVersion: TOPIC_API_VERSION, kind: TOPIC_KIND, metadata: { name }, spec },
    })) as TopicObject;
  }

  topic(name: string): TopicObject | undefined {
    return this.kube.find('topics.sluice.dev', name, NAMESPACE) as TopicObject | undefined;
  }

  /** Replaces the spec (a user's kubectl apply); refusals throw KubeStatusError. */
  setSpec(name: string, spec: TopicSpec): TopicObject {
    const t = this.kube.get('topics.sluice.dev', name, NAMESPACE);
    return this.kube.replace('topics.sluice.dev', { ...t, spec }) as unknown as TopicObject;
  }

  deleteTopic(name: string): void {
    this.kube.delete('topics.sluice.dev', name, NAMESPACE);
  }

  events(objectName: string): { reason: string; message: string; type: string }[] {
    return (this.kube.list('events', NAMESPACE).items as unknown as { involvedObject: { name: string }; reason: string; message: string; type: string }[]).filter((e) => e.involvedObject.name === objectName);
  }
}

/** A broker as the controller sees it: registers, heartbeats what it applied, keeps the newest snapshot. */
export class FakeBroker {
  readonly controllerAddress: string;
  readonly id: number;
  readonly incarnationId: string;
  #session: BrokerSessionDouble | undefined;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  metadata: ClusterMetadata__Output | undefined;
  brokerEpoch = -1;
  lastError: ErrorDetail__Output | undefined;
  registrations = 0;
  /** While set, no heartbeats: the broker looks stuck (and lapses after the session timeout). */
  paused = false;

  constructor(controllerAddress: string, id: number, incarnationId = `${id}-${Math.random().toString(36).slice(2)}`) {
    this.controllerAddress = controllerAddress;
    this.id = id;
    this.incarnationId = incarnationId;
  }

  /** Keeps a session up, re-registering (same incarnation) whenever it ends, as a broker does. */
  start(): this {
    void this.#loop();
    return this;
  }

  async #loop(): Promise<void> {
    while (!this.#stopped) {
      const s = new BrokerSessionDouble(this.controllerAddress);
      this.#session = s;
      try {
        const { registered, metadata } = await s.register({ brokerId: this.id, incarnationId: this.incarnationId, port: 19092 + this.id });
        this.brokerEpoch = registered.broker_epoch;
        this.metadata = metadata;
        this.registrations++;
        this.#timer = setInterval(() => {
          if (!s.isEnded && !this.paused) s.heartbeat();
        }, 100);
        for (;;) {
          const m = await s.next(60_000);
          if (m.kind === 'metadata' && m.metadata) this.metadata = m.metadata;
          if (m.kind === 'error' && m.error) this.lastError = m.error;
        }
      } catch (e) {
        const message = (e as Error).message;
        if (message.startsWith('expected registered')) {
          try {
            this.lastError = JSON.parse(message.slice(message.indexOf('{'))).error as ErrorDetail__Output;
          } catch {
            // not an error message; keep the previous one
          }
        }
      } finally {
        if (this.#timer) clearInterval(this.#timer);
        s.close();
      }
      if (!this.#stopped) await new Promise((r) => setTimeout(r, 100));
    }
  }

  get connected(): boolean {
    return this.#session !== undefined && !this.#session.isEnded && this.brokerEpoch > 0;
  }

  /** Topic names in the newest snapshot. */
  topics(): string[] {
    return (this.metadata?.topics ?? []).map((t) => t.name);
  }

  /**
   * What a broker does on SIGTERM (broker/controlled-shutdown.ts): asks the controller to move its
   * leaderships away until none remain (or `timeoutMs` passes: some may have no other in-sync
   * replica to go to), then stops, closing its session. Resolves with the leaderships that remained.
   */
  async controlledShutdown(timeoutMs = 1_000): Promise<number> {
    const client = controllerClient(this.controllerAddress);
    try {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const res = await unary(client.ControlledShutdown.bind(client), { broker_id: this.id, broker_epoch: this.brokerEpoch });
        if (res.error) throw new Error(`ControlledShutdown refused: ${res.error.code} ${res.error.message}`);
        if (res.remaining_leaderships === 0 || Date.now() > deadline) return res.remaining_leaderships;
        await new Promise((r) => setTimeout(r, 100));
      }
    } finally {
      client.close();
      this.stop();
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearInterval(this.#timer);
    this.#session?.close();
  }
}
