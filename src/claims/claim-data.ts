import { z } from 'zod';

/**
 * Keys an SD-JWT gives meaning to (RFC 9901 §4.2.4.1, §4.2.4.2): `_sd` lists the digests of an
 * object's disclosable members, `_sd_alg` names their hash, `...` stands for a disclosable array
 * element. Claim data holding one would be signed as given, and the holder could then append
 * disclosures of its own whose digests sit in that signed `_sd`: claims the issuer never issued.
 */
export const SD_JWT_RESERVED_KEYS: readonly string[] = ['_sd', '_sd_alg', '...'];

/**
 * Names of Object.prototype's members (`toString`, `constructor`, …): libraries that build
 * credentials from plain objects read them as the inherited members (the SD-JWT library disclosed
 * such a claim as null, or dropped it).
 */
const PROTOTYPE_MEMBERS: readonly string[] = Object.getOwnPropertyNames(Object.prototype);

const FORBIDDEN_KEYS = new Set([...SD_JWT_RESERVED_KEYS, ...PROTOTYPE_MEMBERS]);

export const isForbiddenClaimKey = (key: string) => FORBIDDEN_KEYS.has(key);

/** The path of the first object key, at any depth of `value`, that claim data may not use; undefined when there is none. */
export function findForbiddenClaimKey(value: unknown, path: (string | number)[] = []): (string | number)[] | undefined {
  if (value === null || typeof value !== 'object') return undefined;
  const entries: [string | number, unknown][] = Array.isArray(value) ? value.map((item, index) => [index, item]) : Object.entries(value);
  for (const [key, item] of entries) {
    if (typeof key === 'string' && FORBIDDEN_KEYS.has(key)) return [...path, key];
    const found = findForbiddenClaimKey(item, [...path, key]);
    if (found) return found;
  }
  return undefined;
}

export const forbiddenKeyMessage = (key: string | number) =>
  `"${String(key)}" cannot be used as a claim name: it is reserved by SD-JWT (${SD_JWT_RESERVED_KEYS.join(', ')}) or is a JavaScript object member`;

/** Refuses claim data that holds a forbidden key anywhere, naming where. */
function refuseForbiddenKeys(value: unknown, ctx: z.RefinementCtx) {
  const path = findForbiddenClaimKey(value);
  if (path) ctx.addIssue({ code: 'custom', path, message: forbiddenKeyMessage(path.at(-1)!) });
}

/** Any JSON value that may become (part of) a claim: a user's claim, an offer's claim, a mapping's default. */
export const claimValueSchema = z.json().superRefine(refuseForbiddenKeys);

/** A set of claims by name (a user's, an offer's). */
export const claimsSchema = z
  .record(z.string().min(1).max(256), z.json())
  .superRefine(refuseForbiddenKeys)
  .meta({ id: 'Claims' });
export type Claims = z.infer<typeof claimsSchema>;
