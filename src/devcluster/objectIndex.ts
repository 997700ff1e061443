// The store's objects keyed `group/plural|namespace|name`, also grouped per resource so that listing one
// resource does not scan every object of the cluster (a LIST or a controller resync is O(objects of that kind)).
import type { KubeObject } from './types.ts';

export class ObjectIndex {
  private readonly all = new Map<string, KubeObject>();
  private readonly byResource = new Map<string, Map<string, KubeObject>>();

  constructor(entries: Iterable<[string, KubeObject]> = []) {
    for (const [k, o] of entries) this.set(k, o);
  }

  private static resourceOf(key: string): string {
    return key.slice(0, key.indexOf('|'));
  }

  get(key: string): KubeObject | undefined { return this.all.get(key); }
  has(key: string): boolean { return this.all.has(key); }

  set(key: string, o: KubeObject): void {
    this.all.set(key, o);
    const r = ObjectIndex.resourceOf(key);
    let m = this.byResource.get(r);
    if (!m) this.byResource.set(r, (m = new Map()));
    m.set(key, o);
  }

  delete(key: string): boolean {
    this.byResource.get(ObjectIndex.resourceOf(key))?.delete(key);
    return this.all.delete(key);
  }

  entries(): IterableIterator<[string, KubeObject]> { return this.all.entries(); }
  [Symbol.iterator](): IterableIterator<[string, KubeObject]> { return this.all.entries(); }

  /** Objects of one resource (`group/plural`). */
  ofResource(resource: string): IterableIterator<[string, KubeObject]> {
    return (this.byResource.get(resource) ?? new Map<string, KubeObject>()).entries();
  }
}
