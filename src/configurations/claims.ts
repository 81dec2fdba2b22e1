/** A claim mapping (MATTR VII style): where a credential claim's value comes from at issuance. */
export interface ClaimMapping {
  mapFrom: string;
  required: boolean;
  defaultValue?: unknown;
  selectivelyDisclosable: boolean;
}

/** The object `mapFrom` paths read: `{ claims: <user claims merged with the offer's>, user: { id } }`. */
export interface ClaimSource {
  claims: Record<string, unknown>;
  user: { id: string };
}

export interface ResolvedClaim {
  name: string;
  value: unknown;
  selectivelyDisclosable: boolean;
}

function readPath(source: ClaimSource, path: string): unknown {
  let current: unknown = source;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/**
 * Applies mappings to a source. A claim resolves to the value at `mapFrom`, else its `defaultValue`;
 * an unresolved required claim is reported in `missing`, an unresolved optional one is left out.
 */
export function resolveClaims(mappings: Record<string, ClaimMapping>, source: ClaimSource): { claims: ResolvedClaim[]; missing: { name: string; mapFrom: string }[] } {
  const claims: ResolvedClaim[] = [];
  const missing: { name: string; mapFrom: string }[] = [];
  for (const [name, mapping] of Object.entries(mappings)) {
    const value = readPath(source, mapping.mapFrom) ?? mapping.defaultValue;
    if (value === undefined || value === null) {
      if (mapping.required) missing.push({ name, mapFrom: mapping.mapFrom });
      continue;
    }
    claims.push({ name, value, selectivelyDisclosable: mapping.selectivelyDisclosable });
  }
  return { claims, missing };
}
