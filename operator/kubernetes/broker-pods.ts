// Broker liveness as Kubernetes sees it (DESIGN §6: in Kubernetes a broker is also fenced when its
// Pod is deleted, fails, or its node is lost). Pure: from the broker Pods and Nodes the informers
// hold, which broker ids have a Pod that can be running their process, and which zone each is in.
//
// Broker id = StatefulSet ordinal: the `apps.kubernetes.io/pod-index` label (Kubernetes 1.28+),
// else the number after the last '-' of the Pod name.

export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface PodLike {
  metadata?: { name?: string; labels?: Record<string, string>; deletionTimestamp?: Date | string | null };
  spec?: { nodeName?: string };
  status?: { phase?: string; reason?: string };
}

export interface NodeLike {
  metadata?: { name?: string; labels?: Record<string, string> };
  status?: { conditions?: { type: string; status: string }[] };
}

/**
 * running: a Pod that is Running on a ready node. pending: not running yet (scheduling, image
 * pull) — not a loss. lost: deleted (or being deleted), failed, evicted, finished, or on a node
 * that is not ready or gone — the broker must be fenced at once.
 */
export type PodVerdict = { readonly state: 'running'; readonly rack: string } | { readonly state: 'pending'; readonly why: string } | { readonly state: 'lost'; readonly why: string };

export function brokerIdOfPod(pod: PodLike): number | undefined {
  const label = pod.metadata?.labels?.[POD_INDEX_LABEL];
  const raw = label ?? /-(\d+)$/.exec(pod.metadata?.name ?? '')?.[1];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  const id = Number(raw);
  return Number.isSafeInteger(id) ? id : undefined;
}

/** What the Pods and Nodes say about broker `id`. */
export function podVerdict(id: number, pods: readonly PodLike[], nodes: readonly NodeLike[]): PodVerdict {
  const mine = pods.filter((p) => brokerIdOfPod(p) === id);
  if (mine.length === 0) return { state: 'lost', why: `no broker Pod with ordinal ${id} exists` };
  // During a replacement the old Pod may still be terminating while nothing else exists yet; a
  // StatefulSet never runs two Pods of one ordinal, so the best of them decides.
  const verdicts = mine.map((p) => onePod(p, nodes));
  return verdicts.find((v) => v.state === 'running') ?? verdicts.find((v) => v.state === 'pending') ?? verdicts[0]!;
}

function onePod(pod: PodLike, nodes: readonly NodeLike[]): PodVerdict {
  const name = pod.metadata?.name ?? '?';
  if (pod.metadata?.deletionTimestamp) return { state: 'lost', why: `Pod ${name} is being deleted` };
  const phase = pod.status?.phase;
  if (phase === 'Failed' || phase === 'Succeeded') {
    return { state: 'lost', why: `Pod ${name} is ${phase}${pod.status?.reason ? ` (${pod.status.reason})` : ''}` };
  }
  const nodeName = pod.spec?.nodeName;
  let rack = '';
  if (nodeName) {
    const node = nodes.find((n) => n.metadata?.name === nodeName);
    if (!node) return { state: 'lost', why: `node ${nodeName} of Pod ${name} no longer exists` };
    const ready = node.status?.conditions?.find((c) => c.type === 'Ready');
    if (ready?.status !== 'True') return { state: 'lost', why: `node ${nodeName} of Pod ${name} is not ready (Ready=${ready?.status ?? 'missing'})` };
    rack = node.metadata?.labels?.[ZONE_LABEL] ?? '';
  }
  if (phase !== 'Running') return { state: 'pending', why: `Pod ${name} is ${phase ?? 'without a phase'}` };
  return { state: 'running', rack };
}
