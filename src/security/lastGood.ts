// Last-good reconciliation of security objects (pure), as istiod keeps serving a config whose update it refused: each
// incoming object is validated on its own; a valid one is taken, an invalid one is reported and its previous good
// version (if any) stays in force; objects gone from the incoming set are gone.
import { securityKey, type SecurityMeta } from './types.ts';

/** An object that was refused: "<field path>: <what is wrong>" per reason. */
export interface Refused<K extends string> { kind: K; namespace: string; name: string; generation: number; reasons: string[] }

export function keepLastGood<K extends string, T extends { kind: K; metadata: SecurityMeta }>(
  previousGood: readonly T[],
  incoming: readonly T[],
  validate: (o: T) => string[],
  rejected: Refused<K>[],
): T[] {
  const prev = new Map(previousGood.map((o) => [securityKey(o), o]));
  const good: T[] = [];
  for (const o of incoming) {
    const reasons = validate(o);
    if (reasons.length === 0) { good.push(o); continue; }
    rejected.push({ kind: o.kind, namespace: o.metadata.namespace, name: o.metadata.name, generation: o.metadata.generation, reasons });
    const last = prev.get(securityKey(o));
    if (last) good.push(last);
  }
  return good;
}
