// Broker liveness as Kubernetes sees it (DESIGN §6: in Kubernetes a broker is also fenced when its
// Pod is deleted, fails, or its node is lost). Pure: from the broker Pods and Nodes the informers
// hold, what the Pod a broker runs in (or, when that is not known, the Pods of its ordinal) says
// about it, and which zone it is in.
//
// Broker id = StatefulSet ordinal: the `apps.kubernetes.io/pod-index` label (Kubernetes 1.28+),
// else the number after the last '-' of the Pod name.

export const POD_INDEX_LABEL = 'apps.kubernetes.io/pod-index';
export const ZONE_LABEL = 'topology.kubernetes.io/zone';

export interface PodLike {
  metadata?: { name?: string; uid?: string; labels?: Record<string, string>; deletionTimestamp?: Date | string | null };
  spec?: { nodeName?: string };
  status?: { phase?: string; reason?: string };
}

export interface NodeLike {
  metadata?: { name?: string; labels?: Record<string, string> };
  status?: { conditions?: { type: string; status: string }[] };
}

/** The Pod a verdict is about. */
export interface PodRef {
  readonly uid: string;
  readonly name: string;
}

/**
 * running: Running on a ready node. pending: not running yet (scheduling, image pull) — not a
 * loss. terminating: deleted gracefully (deletionTimestamp set) on a ready node: the kubelet has
 * sent or is about to send SIGTERM, and the broker may be in its controlled shutdown — not a loss
 * while its session lives. lost: gone, failed, evicted, finished, or on a node that is not ready
 * or gone — the broker must be fenced at once.
 */
export type PodVerdict =
  | { readonly state: 'running'; readonly rack: string; readonly pod: PodRef }
  | { readonly state: 'pending'; readonly why: string; readonly pod: PodRef }
  | { readonly state: 'terminating'; readonly why: string; readonly pod: PodRef }
  | { readonly state: 'lost'; readonly why: string };

export function brokerIdOfPod(pod: PodLike): number | undefined {
  const label = pod.metadata?.labels?.[POD_INDEX_LABEL];
  const raw = label ?? /-(\d+)$/.exec(pod.metadata?.name ?? '')?.[1];
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  const id = Number(raw);
  return Number.isSafeInteger(id) ? id : undefined;
}

/**
 * What the Pods of ordinal `id` say about broker `id`, when which of them it runs in is not known.
 * A StatefulSet runs one Pod per ordinal, but during a replacement the old one may still be
 * terminating next to the new one: the most alive of them decides. Terminating ranks above
 * pending: a registered broker runs in a Pod that was started, not in one still being scheduled.
 */
export function podVerdict(id: number, pods: readonly PodLike[], nodes: readonly NodeLike[]): PodVerdict {
  const mine = pods.filter((p) => brokerIdOfPod(p) === id);
  if (mine.length === 0) return { state: 'lost', why: `no broker Pod with ordinal ${id} exists` };
  const verdicts = mine.map((p) => judgePod(p, nodes));
  for (const state of ['running', 'terminating', 'pending'] as const) {
    const v = verdicts.find((x) => x.state === state);
    if (v) return v;
  }
  return verdicts[0]!;
}

/** What one Pod says about the broker in it. */
export function judgePod(pod: PodLike, nodes: readonly NodeLike[]): PodVerdict {
  const ref: PodRef = { uid: pod.metadata?.uid ?? '', name: pod.metadata?.name ?? '?' };
  const name = ref.name;
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
  if (pod.metadata?.deletionTimestamp) {
    // Unscheduled Pods are removed at once by the API server, so this one has a kubelet stopping it.
    return nodeName ? { state: 'terminating', why: `Pod ${name} is being deleted`, pod: ref } : { state: 'lost', why: `Pod ${name} is being deleted before it ran` };
  }
  if (phase !== 'Running') return { state: 'pending', why: `Pod ${name} is ${phase ?? 'without a phase'}`, pod: ref };
  return { state: 'running', rack, pod: ref };
}
