/** The object a claim mapping's `mapFrom` reads (MATTR VII style): `{ claims: <user claims merged with the offer's>, user: { id } }`. */
export interface ClaimSource {
  claims: Record<string, unknown>;
  user: { id: string };
}

/** The value at a dotted `mapFrom` path (`claims.address.street`, `user.id`), own properties only; undefined when absent. */
export function readClaim(source: ClaimSource, mapFrom: string): unknown {
  let current: unknown = source;
  for (const segment of mapFrom.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, segment)) return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

/** `mapFrom` as a configuration may write it. */
export const MAP_FROM_PATTERN = /^(claims(\.[^.\s]+)+|user\.id)$/;
