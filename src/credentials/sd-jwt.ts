import { createHash, sign, type KeyObject } from 'node:crypto';
import { SDJwtInstance } from '@sd-jwt/core';
import type { JWK } from 'jose';
import { randomSecret } from '../crypto/secrets.js';

export type SdJwtTyp = 'dc+sd-jwt' | 'vc+sd-jwt';

export interface SdJwtVcInput {
  typ: SdJwtTyp;
  signingKey: { kid: string; privateKey: KeyObject; x5c: readonly string[] };
  iss: string;
  vct: string;
  iat: number;
  exp?: number;
  holderJwk: JWK;
  claims: { name: string; value: unknown; selectivelyDisclosable: boolean }[];
}

const hasher = (data: string | ArrayBuffer) => new Uint8Array(createHash('sha256').update(typeof data === 'string' ? data : Buffer.from(data)).digest());
// SD-JWT §9.3: salts of at least 128 bits from a CSPRNG, fresh per disclosure.
const saltGenerator = () => randomSecret(16);

/**
 * Signs an SD-JWT VC: `vct`, `iss`, `iat`, `exp` and `cnf` are always plain (SD-JWT VC §3.2.2); mapped
 * claims become disclosures when marked selectively disclosable. ES256 with the issuer's key and x5c.
 */
export async function signSdJwtVc(input: SdJwtVcInput): Promise<string> {
  const { privateKey, kid, x5c } = input.signingKey;
  const instance = new SDJwtInstance({
    signAlg: 'ES256',
    signer: (data: string) => sign('sha256', Buffer.from(data), { key: privateKey, dsaEncoding: 'ieee-p1363' }).toString('base64url'),
    hasher,
    hashAlg: 'sha-256',
    saltGenerator,
  });
  const claims = Object.fromEntries(input.claims.map(({ name, value }) => [name, value]));
  const disclosable = input.claims.filter((claim) => claim.selectivelyDisclosable).map((claim) => claim.name);
  const payload = {
    ...claims,
    iss: input.iss,
    vct: input.vct,
    iat: input.iat,
    ...(input.exp !== undefined && { exp: input.exp }),
    cnf: { jwk: input.holderJwk },
  };
  return instance.issue(payload, disclosable.length ? ({ _sd: disclosable } as never) : undefined, {
    header: { typ: input.typ, kid, x5c: [...x5c] },
  });
}

export const credentialHash = (credential: string) => createHash('sha256').update(credential).digest('base64url');
