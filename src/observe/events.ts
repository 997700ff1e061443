// Mesh events that operators watch live (the admin server streams them on /events over WebSocket).
// Components publish; nothing here does I/O.
import { EventEmitter } from 'node:events';

export type MeshEventKind =
  | 'cluster.connected'
  | 'cluster.syncing'
  | 'cluster.unreachable'
  | 'cluster.error'
  | 'cluster.removed'
  | 'service.added'
  | 'service.removed'
  | 'endpoint.health'
  | 'replication.conflict'
  | 'push.done'
  | 'proxy.connected'
  | 'proxy.disconnected'
  | 'proxy.nack'
  | 'failover.started'
  | 'failover.ended'
  | 'leader.changed'
  | 'ca.rotated'
  | 'policy.rejected'
  | 'authz.denied';

export interface MeshEvent {
  kind: MeshEventKind;
  /** ISO time */
  at: string;
  /** one line for humans */
  message: string;
  /** structured details (cluster, service, node, version, …) */
  data?: Record<string, unknown>;
}

export class EventBus {
  private readonly emitter = new EventEmitter();
  private readonly recent: MeshEvent[] = [];

  constructor(private readonly keep = 500) {
    this.emitter.setMaxListeners(0);
  }

  publish(kind: MeshEventKind, message: string, data?: Record<string, unknown>): MeshEvent {
    const ev: MeshEvent = { kind, at: new Date().toISOString(), message, ...(data ? { data } : {}) };
    this.recent.push(ev);
    if (this.recent.length > this.keep) this.recent.splice(0, this.recent.length - this.keep);
    this.emitter.emit('event', ev);
    return ev;
  }

  /** Returns an unsubscribe function. */
  subscribe(fn: (ev: MeshEvent) => void): () => void {
    this.emitter.on('event', fn);
    return () => this.emitter.off('event', fn);
  }

  history(): readonly MeshEvent[] {
    return this.recent;
  }
}
