// Watch streams as the API server's watch cache serves them: a chunked 200 response of
// newline-delimited `{"type","object"}` events.
//  * resourceVersion unset or "0": synthetic ADDED for every current object, then live events;
//    resourceVersion N: every change after N replayed from the store's history, then live;
//  * N older than the history: one ERROR event carrying a 410 Expired Status, then the stream
//    ends (what informers key their re-list on) — or, as an option, an HTTP 410 up front;
//  * selectors apply to transitions: an object that stops matching arrives as DELETED, one that
//    starts matching as ADDED;
//  * allowWatchBookmarks=true: periodic BOOKMARK events with the latest resourceVersion;
//    sendInitialEvents=true: the initial ADDED events end with a BOOKMARK annotated
//    `k8s.io/initial-events-end: "true"`;
//  * timeoutSeconds ends the stream cleanly.
// Test hooks: drop every watch (cleanly or by resetting the socket), and stall watches — the
// connection stays open and nothing more is ever written to it, the failure informers only
// notice through their own inactivity timeout.
import type { ServerResponse } from 'node:http';
import { badRequest, fieldError, invalid, resourceVersionTooLarge, type KubeStatusError } from './api-status.ts';
import { errorTarget, makeObjectFilter, type ObjectFilter } from './api-operations.ts';
import type { ObjectStore, StoredChange } from './object-store.ts';
import type { KubeObject, ResourceType } from './resource-types.ts';

export interface WatchParams {
  type: ResourceType;
  namespace?: string;
  /** Set when the watch was opened on an object's own path (a watch of one name). */
  name?: string;
  labelSelector?: string;
  fieldSelector?: string;
  resourceVersion?: string;
  resourceVersionMatch?: string;
  allowWatchBookmarks: boolean;
  sendInitialEvents?: boolean;
  timeoutSeconds?: number;
}

export interface WatchHubOptions {
  bookmarkIntervalMs: number;
  defaultTimeoutSeconds: number;
  /** How a watch from an expired resourceVersion is refused: ERROR event (as the watch cache does) or HTTP 410. */
  expiredAs: 'event' | 'http';
}

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

interface Watcher {
  params: WatchParams;
  filter: ObjectFilter;
  res: ServerResponse;
  /** A stalled watcher's connection stays open but is never written to again. */
  stalled: boolean;
  timers: NodeJS.Timeout[];
}

export class WatchHub {
  private readonly store: ObjectStore;
  private readonly options: WatchHubOptions;
  private readonly watchers = new Set<Watcher>();
  private stallNewWatches = false;

  constructor(store: ObjectStore, options: WatchHubOptions) {
    this.store = store;
    this.options = options;
    store.onChange((change) => this.publish(change));
  }

  setExpiredAs(mode: 'event' | 'http'): void {
    this.options.expiredAs = mode;
  }

  /**
   * Starts a watch on `res`. Throws a KubeStatusError (before anything is written) for a request
   * the server refuses outright; the caller turns it into an error response.
   */
  open(res: ServerResponse, params: WatchParams): void {
    const { type } = params;
    const filter = makeObjectFilter(type, params.namespace, params.name, params.labelSelector, params.fieldSelector);
    const raw = params.resourceVersion;
    const fromState = raw === undefined || raw === '' || raw === '0';
    const from = fromState ? this.store.resourceVersion : Number(raw);
    if (!Number.isInteger(from) || from < 0) throw badRequest(`resourceVersion: Invalid value: ${JSON.stringify(raw)}: must be a non-negative integer`);
    if (params.sendInitialEvents && (params.resourceVersionMatch !== 'NotOlderThan' || !params.allowWatchBookmarks)) {
      throw invalid(errorTarget(type), '', [
        fieldError('FieldValueForbidden', 'resourceVersionMatch', 'Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan and allowWatchBookmarks to true'),
      ]);
    }
    let replay: StoredChange[] = [];
    let refusal: KubeStatusError | undefined;
    if (!fromState && !params.sendInitialEvents) {
      if (from > this.store.resourceVersion) refusal = resourceVersionTooLarge(from, this.store.resourceVersion);
      else {
        try {
          replay = this.store.changesSince(type.storageKey, from);
        } catch (err) {
          if (this.options.expiredAs === 'http') throw err;
          refusal = err as KubeStatusError;
        }
      }
    }

    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    if (refusal) {
      // The watch cache reports errors after the stream has started as one ERROR event.
      res.end(`${JSON.stringify({ type: 'ERROR', object: refusal.status })}\n`);
      return;
    }
    const w: Watcher = { params, filter, res, stalled: this.stallNewWatches, timers: [] };
    this.watchers.add(w);
    res.on('close', () => this.forget(w));

    if (fromState || params.sendInitialEvents) {
      for (const o of this.store.list(type.storageKey)) {
        const view = type.fromStorage(o);
        if (filter(view)) this.write(w, 'ADDED', view);
      }
      if (params.sendInitialEvents) this.write(w, 'BOOKMARK', this.bookmarkObject(type, { 'k8s.io/initial-events-end': 'true' }));
    } else {
      for (const change of replay) this.deliver(w, change);
    }

    // timeoutSeconds=0 (or absent) means the server's own limit, as on a real API server.
    const timeoutSeconds = params.timeoutSeconds !== undefined && params.timeoutSeconds > 0 ? params.timeoutSeconds : this.options.defaultTimeoutSeconds;
    w.timers.push(
      setTimeout(() => {
        // A stalled watch is a hung server-side stream: it does not time out either.
        if (!w.stalled) this.end(w);
      }, timeoutSeconds * 1000),
    );
    if (params.allowWatchBookmarks) {
      w.timers.push(setInterval(() => this.write(w, 'BOOKMARK', this.bookmarkObject(type)), this.options.bookmarkIntervalMs));
    }
  }

  private bookmarkObject(type: ResourceType, annotations?: Record<string, string>): Record<string, unknown> {
    const metadata: Record<string, unknown> = { resourceVersion: String(this.store.resourceVersion) };
    if (annotations) metadata.annotations = annotations;
    return { kind: type.kind, apiVersion: type.apiVersion, metadata };
  }

  private write(w: Watcher, type: WatchEventType, object: unknown): void {
    if (w.stalled || w.res.writableEnded || w.res.destroyed) return;
    w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  /** One stored change as this watcher sees it, with selector transitions. */
  private deliver(w: Watcher, change: StoredChange): void {
    const { type } = w.params;
    if (change.storageKey !== type.storageKey) return;
    const obj: KubeObject = type.fromStorage(change.object);
    const before = change.previous ? w.filter(type.fromStorage(change.previous)) : false;
    const now = w.filter(obj);
    switch (change.type) {
      case 'ADDED':
        if (now) this.write(w, 'ADDED', obj);
        return;
      case 'MODIFIED':
        if (now && before) this.write(w, 'MODIFIED', obj);
        else if (now) this.write(w, 'ADDED', obj);
        else if (before) this.write(w, 'DELETED', obj);
        return;
      case 'DELETED':
        if (now || before) this.write(w, 'DELETED', obj);
        return;
    }
  }

  private publish(change: StoredChange): void {
    for (const w of this.watchers) this.deliver(w, change);
  }

  private forget(w: Watcher): void {
    for (const t of w.timers) clearTimeout(t);
    w.timers = [];
    this.watchers.delete(w);
  }

  private end(w: Watcher): void {
    this.forget(w);
    if (!w.res.writableEnded) w.res.end();
  }

  /** Open watches, optionally only those on one resource (plural, e.g. `topics`). */
  count(plural?: string): number {
    let n = 0;
    for (const w of this.watchers) if (plural === undefined || w.params.type.plural === plural) n += 1;
    return n;
  }

  /** A BOOKMARK now on every watch that asked for bookmarks. */
  sendBookmarks(): void {
    for (const w of this.watchers) if (w.params.allowWatchBookmarks) this.write(w, 'BOOKMARK', this.bookmarkObject(w.params.type));
  }

  /**
   * Ends every open watch. Clean: the response ends normally (an API server shutting down or a
   * proxy closing idle streams) — clients re-watch from their last resourceVersion. Abrupt: the
   * socket is destroyed mid-stream, which clients see as a network error.
   */
  drop(options: { abrupt?: boolean } = {}): void {
    for (const w of [...this.watchers]) {
      this.forget(w);
      if (options.abrupt) w.res.socket?.destroy();
      else if (!w.res.writableEnded) w.res.end();
    }
  }

  /**
   * Silences every open watch for good (its connection stays open, nothing is sent again, no
   * timeout ends it); with includeNew, watches opened later are silent too until resume().
   */
  stall(options: { includeNew?: boolean } = {}): void {
    for (const w of this.watchers) w.stalled = true;
    this.stallNewWatches = options.includeNew ?? false;
  }

  /** New watches behave normally again; already-stalled ones stay dead, like a hung connection. */
  resume(): void {
    this.stallNewWatches = false;
  }

  close(): void {
    for (const w of [...this.watchers]) this.end(w);
  }
}
