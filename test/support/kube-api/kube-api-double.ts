// KubeApiDouble: a TEST DOUBLE of the Kubernetes API server (no real one can run on this
// machine), speaking its HTTP REST and watch protocol on 127.0.0.1 for the resources the Sluice
// operator uses — sluice.dev Topics (from the CRD passed in, with its schema and CEL rules),
// core/v1 Pods, Nodes and Events, coordination.k8s.io/v1 Leases and events.k8s.io/v1 Events —
// so that the real @kubernetes/client-node code paths (typed APIs, Watch, informers) run
// against it. What it models, and what it does not, is listed in README.md next to this file.
//
//   const kube = await KubeApiDouble.start({ crds: [topicCrd] });
//   const kc = new KubeConfig(); kc.loadFromOptions(kube.kubeConfigOptions());
//   … kube.compactHistory(); kube.stallWatches(); kube.failRequests({ verb: 'list', code: 500 });
//   await kube.stop();
import { randomUUID } from 'node:crypto';
import * as fs from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseAllDocuments } from 'yaml';
import {
  badRequest,
  injected,
  KubeStatusError,
  methodNotAllowed,
  noSuchEndpoint,
  unsupportedMediaType,
  type KubeStatus,
} from './api-status.ts';
import { ApiOperations, type DeleteOptions, type FieldValidation, type ListQuery, type ListResult } from './api-operations.ts';
import { ObjectStore } from './object-store.ts';
import { builtinResourceTypes, crdResourceTypes, type CustomResourceDefinition, type KubeObject, type ResourceType } from './resource-types.ts';
import { WatchHub } from './watch-hub.ts';

export type { CustomResourceDefinition, KubeObject } from './resource-types.ts';
export { KubeStatusError } from './api-status.ts';

export interface KubeApiDoubleOptions {
  /** CRDs to install (apiextensions.k8s.io/v1 objects); a CRD a real server would refuse fails start. */
  crds?: CustomResourceDefinition[];
  /** Changes kept for watch replay and old lists; older resourceVersions are 410 Expired. Default 1000. */
  watchHistoryLimit?: number;
  /** Interval of BOOKMARK events on watches with allowWatchBookmarks=true. Default 60 s, as the real server. */
  bookmarkIntervalMs?: number;
  /** Watch length when the client sends no timeoutSeconds. Default 1800 s (the server's minRequestTimeout). */
  defaultWatchTimeoutSeconds?: number;
  /** Expired watch refused with an ERROR event in a 200 stream (default, as the watch cache) or an HTTP 410. */
  expiredWatchResponse?: 'event' | 'http';
  /**
   * Simulated kubelet: ms until a gracefully deleted pod is removed (at most its grace period, when
   * a kubelet kills what still runs); 'manual' = never (a kubelet that does not act). Default 0.
   */
  podTerminationDelayMs?: number | 'manual';
  /** Clock for creationTimestamp/deletionTimestamp. */
  now?: () => Date;
  /** Revision the store starts at; the first write gets the next one. Default 1000. */
  firstResourceVersion?: number;
}

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';

export interface RecordedRequest {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  verb?: Verb;
  /** Plural resource name (`topics`), for resource requests. */
  resource?: string;
  group?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  /** HTTP status of the answer (200 for a watch that started). */
  code: number;
}

/** Makes matching requests fail with a Status, `times` times (Infinity: until clearFaults). */
export interface FaultRule {
  verb?: Verb;
  /** Plural resource name (`topics`, `leases`). */
  resource?: string;
  namespace?: string;
  name?: string;
  subresource?: string;
  times?: number;
  code?: number;
  reason?: string;
  message?: string;
  retryAfterSeconds?: number;
}

interface Route {
  type: ResourceType;
  namespace?: string;
  name?: string;
  subresource?: string;
}

const DEFAULT_REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  409: 'Conflict',
  410: 'Expired',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

/** Reads a CRD from a YAML (or JSON) file, e.g. deploy/crds/topics.sluice.dev.yaml. */
export function readCrdFile(file: string): CustomResourceDefinition {
  const docs = parseAllDocuments(fs.readFileSync(file, 'utf8')).map((d) => d.toJS() as unknown);
  const crd = docs.find((d) => d !== null && typeof d === 'object' && (d as { kind?: unknown }).kind === 'CustomResourceDefinition');
  if (!crd) throw new Error(`${file}: no CustomResourceDefinition document`);
  return crd as CustomResourceDefinition;
}

function parseBool(v: string | null): boolean {
  return v === 'true' || v === '1';
}

function parseIntParam(name: string, v: string | null): number | undefined {
  if (v === null || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n)) throw badRequest(`${name}: Invalid value: ${JSON.stringify(v)}: must be an integer`);
  return n;
}

function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0].trim().toLowerCase();
}

function groupVersion(t: { group: string; version: string }): string {
  return t.group === '' ? t.version : `${t.group}/${t.version}`;
}

export class KubeApiDouble {
  readonly url: string;
  readonly port: number;
  /** Every request served, in order (cleared by clearRequests()). */
  readonly requests: RecordedRequest[] = [];

  private readonly server: Server;
  private readonly store: ObjectStore;
  private readonly operations: ApiOperations;
  private readonly watches: WatchHub;
  /** `group/version/plural` → type. */
  private readonly types = new Map<string, ResourceType>();
  private faults: (FaultRule & { remaining: number })[] = [];

  private constructor(server: Server, port: number, store: ObjectStore, operations: ApiOperations, watches: WatchHub, types: ResourceType[]) {
    this.server = server;
    this.port = port;
    this.url = `http://127.0.0.1:${port}`;
    this.store = store;
    this.operations = operations;
    this.watches = watches;
    for (const t of types) this.types.set(`${t.group}/${t.version}/${t.plural}`, t);
  }

  static async start(options: KubeApiDoubleOptions = {}): Promise<KubeApiDouble> {
    const types = [...builtinResourceTypes(), ...(options.crds ?? []).flatMap((crd) => crdResourceTypes(crd))];
    const store = new ObjectStore({ historyLimit: options.watchHistoryLimit ?? 1000, firstResourceVersion: options.firstResourceVersion ?? 1000 });
    const operations = new ApiOperations(store, {
      now: options.now ?? (() => new Date()),
      newUid: randomUUID,
      podTerminationDelayMs: options.podTerminationDelayMs ?? 0,
    });
    const watches = new WatchHub(store, {
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
      defaultTimeoutSeconds: options.defaultWatchTimeoutSeconds ?? 1800,
      expiredAs: options.expiredWatchResponse ?? 'event',
    });
    let self: KubeApiDouble | undefined;
    const server = createServer((req, res) => {
      if (!self) {
        res.writeHead(503).end();
        return;
      }
      void self.handle(req, res);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => resolve());
    });
    const port = (server.address() as AddressInfo).port;
    self = new KubeApiDouble(server, port, store, operations, watches, types);
    return self;
  }

  /** Ends every watch and connection and closes the port. */
  async stop(): Promise<void> {
    this.operations.stop();
    this.watches.close();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  /** Options for client-node's `KubeConfig.loadFromOptions`, pointing at this double. */
  kubeConfigOptions(): {
    clusters: { name: string; server: string; skipTLSVerify: boolean }[];
    users: { name: string }[];
    contexts: { name: string; cluster: string; user: string; namespace?: string }[];
    currentContext: string;
  } {
    return {
      clusters: [{ name: 'kube-api-double', server: this.url, skipTLSVerify: true }],
      users: [{ name: 'kube-api-double' }],
      contexts: [{ name: 'kube-api-double', cluster: 'kube-api-double', user: 'kube-api-double' }],
      currentContext: 'kube-api-double',
    };
  }

  /** The store's current revision, as a resourceVersion string. */
  get resourceVersion(): string {
    return String(this.store.resourceVersion);
  }

  // ------------------------------------------------------------------------------ test hooks

  /** Forgets all watch history: any watch or exact list from an older resourceVersion gets 410. */
  compactHistory(): void {
    this.store.compact();
  }

  /** Ends all open watches (abrupt: reset the sockets, which clients see as an error). */
  dropWatches(options: { abrupt?: boolean } = {}): void {
    this.watches.drop(options);
  }

  /** Open watches go silent for good; with includeNew, new ones do too until resumeWatches(). */
  stallWatches(options: { includeNew?: boolean } = {}): void {
    this.watches.stall(options);
  }

  resumeWatches(): void {
    this.watches.resume();
  }

  /** A BOOKMARK now on every watch that allows bookmarks. */
  sendBookmarks(): void {
    this.watches.sendBookmarks();
  }

  setExpiredWatchResponse(mode: 'event' | 'http'): void {
    this.watches.setExpiredAs(mode);
  }

  /** Open watch connections, optionally on one resource (plural). */
  openWatches(resource?: string): number {
    return this.watches.count(resource);
  }

  /** Resolves once at least `count` watches are open (on `resource`, if given). */
  async waitForWatches(count: number, options: { resource?: string; timeoutMs?: number } = {}): Promise<void> {
    const deadline = Date.now() + (options.timeoutMs ?? 5000);
    while (this.openWatches(options.resource) < count) {
      if (Date.now() > deadline) {
        throw new Error(`timed out waiting for ${count} watch(es)${options.resource ? ` on ${options.resource}` : ''}; open: ${this.openWatches(options.resource)}`);
      }
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  failRequests(rule: FaultRule): void {
    this.faults.push({ ...rule, remaining: rule.times ?? 1 });
  }

  clearFaults(): void {
    this.faults = [];
  }

  clearRequests(): void {
    this.requests.length = 0;
  }

  // ---------------------------------------------------------------- direct access (no HTTP)
  // For arranging state a test needs (a Node, a running Pod) without a client; the same rules
  // apply as over HTTP, refusals are thrown as KubeStatusError. `resource` is the plural for
  // core types (`pods`) and `plural.group` otherwise (`topics.sluice.dev`, `leases.coordination.k8s.io`).

  private resolve(resource: string): ResourceType {
    const dot = resource.indexOf('.');
    const plural = dot < 0 ? resource : resource.slice(0, dot);
    const group = dot < 0 ? '' : resource.slice(dot + 1);
    const candidates = [...this.types.values()].filter((t) => t.plural === plural && t.group === group);
    if (candidates.length === 0) throw new Error(`unknown resource ${resource} (served: ${[...this.types.values()].map((t) => (t.group ? `${t.plural}.${t.group}` : t.plural)).join(', ')})`);
    return candidates[0];
  }

  create(resource: string, obj: Record<string, unknown>): KubeObject {
    const t = this.resolve(resource);
    const ns = (obj.metadata as { namespace?: string } | undefined)?.namespace;
    return this.operations.create(t, t.namespaced ? ns : undefined, obj).object;
  }

  get(resource: string, name: string, namespace?: string): KubeObject {
    return this.operations.get(this.resolve(resource), namespace, name);
  }

  /** The object, or undefined when it does not exist. */
  find(resource: string, name: string, namespace?: string): KubeObject | undefined {
    try {
      return this.get(resource, name, namespace);
    } catch (err) {
      if (err instanceof KubeStatusError && err.code === 404) return undefined;
      throw err;
    }
  }

  list(resource: string, namespace?: string, query: ListQuery = {}): ListResult {
    return this.operations.list(this.resolve(resource), namespace, query);
  }

  replace(resource: string, obj: Record<string, unknown>): KubeObject {
    const meta = (obj.metadata ?? {}) as { name?: string; namespace?: string };
    return this.operations.update(this.resolve(resource), meta.namespace, meta.name ?? '', obj).object;
  }

  replaceStatus(resource: string, obj: Record<string, unknown>): KubeObject {
    const meta = (obj.metadata ?? {}) as { name?: string; namespace?: string };
    return this.operations.update(this.resolve(resource), meta.namespace, meta.name ?? '', obj, { subresource: 'status' }).object;
  }

  /** Merge patch (or JSON patch when `patch` is an array), on the object or its status. */
  patch(resource: string, name: string, namespace: string | undefined, patch: unknown, options: { subresource?: 'status' } = {}): KubeObject {
    const contentType = Array.isArray(patch) ? 'application/json-patch+json' : 'application/merge-patch+json';
    return this.operations.patch(this.resolve(resource), namespace, name, JSON.stringify(patch), contentType, options).object;
  }

  delete(resource: string, name: string, namespace?: string, options: DeleteOptions = {}): KubeObject | KubeStatus {
    return this.operations.delete(this.resolve(resource), namespace, name, options);
  }

  // ------------------------------------------------------------------------------------ HTTP

  private send(res: ServerResponse, code: number, body: unknown, warnings: string[] = []): void {
    if (res.headersSent) {
      res.end();
      return;
    }
    const headers: Record<string, string | string[]> = { 'Content-Type': 'application/json' };
    // The server's Warning header format: `299 - "text"` (RFC 7234), one per warning.
    if (warnings.length > 0) headers.Warning = warnings.map((w) => `299 - ${JSON.stringify(w)}`);
    res.writeHead(code, headers);
    res.end(JSON.stringify(body));
  }

  private async readBody(req: IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.url);
    const record: RecordedRequest = { method: req.method ?? 'GET', path: url.pathname, query: Object.fromEntries(url.searchParams), code: 0 };
    this.requests.push(record);
    try {
      const discovery = this.discovery(url.pathname);
      if (discovery !== undefined) {
        if (req.method !== 'GET') throw methodNotAllowed(`the server does not allow this method on the requested resource`);
        record.code = 200;
        if (typeof discovery === 'string') res.writeHead(200, { 'Content-Type': 'text/plain' }).end(discovery);
        else this.send(res, 200, discovery);
        return;
      }
      const route = this.route(url.pathname);
      record.resource = route.type.plural;
      record.group = route.type.group;
      record.namespace = route.namespace;
      record.name = route.name;
      record.subresource = route.subresource;
      const verb = this.verb(req.method ?? 'GET', route, url.searchParams);
      record.verb = verb;
      const body = await this.readBody(req);
      this.injectFault(verb, route);
      const { code, payload, warnings } = this.serve(verb, route, url.searchParams, body, req, res);
      record.code = code;
      if (payload !== undefined) this.send(res, code, payload, warnings);
    } catch (err) {
      const status = err instanceof KubeStatusError ? err.status : injected(500, 'InternalError', `kube-api-double: ${(err as Error).stack ?? String(err)}`).status;
      record.code = status.code;
      const headers = status.details?.retryAfterSeconds !== undefined ? { 'Retry-After': String(status.details.retryAfterSeconds) } : {};
      if (res.headersSent) {
        res.end();
        return;
      }
      res.writeHead(status.code, { 'Content-Type': 'application/json', ...headers });
      res.end(JSON.stringify(status));
    }
  }

  private injectFault(verb: Verb, route: Route): void {
    const rule = this.faults.find(
      (f) =>
        f.remaining > 0 &&
        (f.verb === undefined || f.verb === verb) &&
        (f.resource === undefined || f.resource === route.type.plural) &&
        (f.namespace === undefined || f.namespace === route.namespace) &&
        (f.name === undefined || f.name === route.name) &&
        (f.subresource === undefined || f.subresource === route.subresource),
    );
    if (!rule) return;
    rule.remaining -= 1;
    const code = rule.code ?? 500;
    throw injected(code, rule.reason ?? DEFAULT_REASONS[code] ?? 'InternalError', rule.message ?? `injected by the test (${verb} ${route.type.plural})`, rule.retryAfterSeconds);
  }

  /** Resolves a resource path; 404 (as the server's "could not find the requested resource") otherwise. */
  private route(pathname: string): Route {
    const parts = pathname.split('/').filter((p) => p !== '').map((p) => decodeURIComponent(p));
    let group: string;
    let version: string;
    let rest: string[];
    if (parts[0] === 'api' && parts.length >= 3) {
      group = '';
      version = parts[1];
      rest = parts.slice(2);
    } else if (parts[0] === 'apis' && parts.length >= 4) {
      group = parts[1];
      version = parts[2];
      rest = parts.slice(3);
    } else {
      throw noSuchEndpoint();
    }
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const type = this.types.get(`${group}/${version}/${rest[0]}`);
    if (!type || rest.length > 3 || (namespace !== undefined && !type.namespaced)) throw noSuchEndpoint();
    const subresource = rest[2];
    if (subresource !== undefined && !(subresource === 'status' && type.statusSubresource)) throw noSuchEndpoint();
    return { type, namespace, name: rest[1], subresource };
  }

  private verb(method: string, route: Route, q: URLSearchParams): Verb {
    const watch = parseBool(q.get('watch'));
    const item = route.name !== undefined;
    const namespacedItemWithoutNamespace = item && route.type.namespaced && route.namespace === undefined;
    if (namespacedItemWithoutNamespace) throw noSuchEndpoint();
    switch (method) {
      case 'GET':
        if (watch) return 'watch';
        return item ? 'get' : 'list';
      case 'POST':
        if (item) break;
        if (route.type.namespaced && route.namespace === undefined) break;
        return 'create';
      case 'PUT':
        if (item) return 'update';
        break;
      case 'PATCH':
        if (item) return 'patch';
        break;
      case 'DELETE':
        if (item) return 'delete';
        if (route.type.namespaced && route.namespace === undefined) break;
        return 'deletecollection';
    }
    throw methodNotAllowed(`the server does not allow this method on the requested resource`);
  }

  private serve(
    verb: Verb,
    route: Route,
    q: URLSearchParams,
    body: string,
    req: IncomingMessage,
    res: ServerResponse,
  ): { code: number; payload?: unknown; warnings?: string[] } {
    const { type, namespace, name = '' } = route;
    const subresource = route.subresource === 'status' ? ('status' as const) : undefined;
    const dryRun = q.getAll('dryRun').includes('All');
    const fieldValidation = (q.get('fieldValidation') ?? undefined) as FieldValidation | undefined;
    if (fieldValidation !== undefined && !['Strict', 'Warn', 'Ignore'].includes(fieldValidation)) {
      throw badRequest(`fieldValidation: Unsupported value: ${JSON.stringify(fieldValidation)}: supported values: "Ignore", "Strict", "Warn"`);
    }
    const listQuery: ListQuery = {
      labelSelector: q.get('labelSelector') ?? undefined,
      fieldSelector: q.get('fieldSelector') ?? undefined,
      resourceVersion: q.get('resourceVersion') ?? undefined,
      resourceVersionMatch: q.get('resourceVersionMatch') ?? undefined,
      limit: parseIntParam('limit', q.get('limit')),
      continue: q.get('continue') ?? undefined,
    };
    const parseJson = (): unknown => {
      if (body.trim() === '') return undefined;
      try {
        return JSON.parse(body);
      } catch (err) {
        throw badRequest(`the body of the request could not be decoded as JSON: ${(err as Error).message}`);
      }
    };
    const requireJson = (): void => {
      const mt = mediaType(req.headers['content-type']);
      if (mt !== '' && mt !== 'application/json') throw unsupportedMediaType(`the body of the request was in an unknown format - accepted media types include: application/json`);
    };
    switch (verb) {
      case 'get':
        return { code: 200, payload: this.operations.get(type, namespace, name) };
      case 'list':
        return { code: 200, payload: this.operations.list(type, namespace, listQuery) };
      case 'watch':
        this.watches.open(res, {
          type,
          namespace,
          name: route.name,
          labelSelector: listQuery.labelSelector,
          fieldSelector: listQuery.fieldSelector,
          resourceVersion: listQuery.resourceVersion,
          resourceVersionMatch: listQuery.resourceVersionMatch,
          allowWatchBookmarks: parseBool(q.get('allowWatchBookmarks')),
          sendInitialEvents: parseBool(q.get('sendInitialEvents')),
          timeoutSeconds: parseIntParam('timeoutSeconds', q.get('timeoutSeconds')),
        });
        return { code: 200 };
      case 'create': {
        requireJson();
        const r = this.operations.create(type, namespace, parseJson(), { dryRun, fieldValidation });
        return { code: 201, payload: r.object, warnings: r.warnings };
      }
      case 'update': {
        requireJson();
        const r = this.operations.update(type, namespace, name, parseJson(), { dryRun, fieldValidation, subresource });
        return { code: r.created ? 201 : 200, payload: r.object, warnings: r.warnings };
      }
      case 'patch': {
        const r = this.operations.patch(type, namespace, name, body, mediaType(req.headers['content-type']), { dryRun, fieldValidation, subresource });
        return { code: 200, payload: r.object, warnings: r.warnings };
      }
      case 'delete':
      case 'deletecollection': {
        const options = this.deleteOptions(parseJson(), q, dryRun);
        if (verb === 'delete') return { code: 200, payload: this.operations.delete(type, namespace, name, options) };
        return { code: 200, payload: this.operations.deleteCollection(type, namespace, listQuery, options) };
      }
    }
  }

  /** DeleteOptions from the body (client-node sends V1DeleteOptions) and the query string. */
  private deleteOptions(body: unknown, q: URLSearchParams, dryRun: boolean): DeleteOptions {
    const b = body !== null && typeof body === 'object' ? (body as Record<string, unknown>) : {};
    const fromQuery = parseIntParam('gracePeriodSeconds', q.get('gracePeriodSeconds'));
    const grace = fromQuery ?? (typeof b.gracePeriodSeconds === 'number' ? b.gracePeriodSeconds : undefined);
    if (grace !== undefined && grace < 0) throw badRequest(`gracePeriodSeconds: Invalid value: ${grace}: must be >= 0`);
    const pre = b.preconditions !== null && typeof b.preconditions === 'object' ? (b.preconditions as { uid?: string; resourceVersion?: string }) : undefined;
    const bodyDryRun = Array.isArray(b.dryRun) && b.dryRun.includes('All');
    return { gracePeriodSeconds: grace, preconditions: pre, dryRun: dryRun || bodyDryRun };
  }

  /** Discovery documents (`/api`, `/apis`, `/apis/{g}`, `/api/v1`, `/apis/{g}/{v}`, `/version`), or undefined. */
  private discovery(pathname: string): unknown {
    const path = pathname.replace(/\/+$/, '') || '/';
    const types = [...this.types.values()];
    const versionsOf = (group: string) => [...new Set(types.filter((t) => t.group === group).map((t) => t.version))];
    if (path === '/version') return { major: '1', minor: '33', gitVersion: 'v1.33.0-kube-api-double', platform: 'linux/amd64' };
    if (path === '/healthz' || path === '/readyz' || path === '/livez') return 'ok';
    if (path === '/api') {
      return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }] };
    }
    const groupDoc = (group: string) => {
      const versions = versionsOf(group).map((version) => ({ groupVersion: `${group}/${version}`, version }));
      return { name: group, versions, preferredVersion: versions[0] };
    };
    const groups = [...new Set(types.map((t) => t.group).filter((g) => g !== ''))];
    if (path === '/apis') return { kind: 'APIGroupList', apiVersion: 'v1', groups: groups.map(groupDoc) };
    const m = /^\/apis\/([^/]+)$/.exec(path);
    if (m && groups.includes(m[1])) return { kind: 'APIGroup', apiVersion: 'v1', ...groupDoc(m[1]) };
    const gv = /^\/api\/(v1)$/.exec(path) ?? /^\/apis\/([^/]+\/[^/]+)$/.exec(path);
    if (gv) {
      const inGv = types.filter((t) => groupVersion(t) === gv[1]);
      if (inGv.length === 0) return undefined;
      const resources = inGv.flatMap((t) => {
        const main = {
          name: t.plural,
          singularName: t.singular,
          namespaced: t.namespaced,
          kind: t.kind,
          verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
          ...(t.shortNames.length > 0 ? { shortNames: t.shortNames } : {}),
        };
        const status = { name: `${t.plural}/status`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] };
        return t.statusSubresource ? [main, status] : [main];
      });
      return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: gv[1], resources };
    }
    return undefined;
  }
}
