// Traffic policy read from several clusters (the control plane first, then member clusters) merged by namespace
// sameness: one object per kind/namespace/name. The first source that holds a key wins; later copies are
// reported as shadowed (with whether their spec differs), so a user can tell why their member-cluster edit is
// not served. Pure.
import type { KubeObject } from './parse.ts';

export interface PolicySource {
  /** the cluster the objects were read from ('' = the control-plane cluster) */
  cluster: string;
  objects: readonly KubeObject[];
}

export interface SourcedObject { cluster: string; object: KubeObject }

export interface Shadowed { key: string; cluster: string; by: string; differs: boolean }

export function sourceKey(o: KubeObject): string {
  return `${o.kind ?? ''}/${o.metadata?.namespace ?? ''}/${o.metadata?.name ?? ''}`;
}

/** `sources` in precedence order. */
export function mergeSources(sources: readonly PolicySource[]): { objects: SourcedObject[]; shadowed: Shadowed[] } {
  const byKey = new Map<string, SourcedObject>();
  const shadowed: Shadowed[] = [];
  for (const s of sources) {
    for (const o of s.objects) {
      const key = sourceKey(o);
      const first = byKey.get(key);
      if (!first) { byKey.set(key, { cluster: s.cluster, object: o }); continue; }
      shadowed.push({ key, cluster: s.cluster, by: first.cluster, differs: JSON.stringify(first.object.spec) !== JSON.stringify(o.spec) });
    }
  }
  return { objects: [...byKey.values()], shadowed };
}
