import { createHash, randomBytes } from 'node:crypto';
import { Openid4vciClient } from '@openid4vc/openid4vci';
import { clientAuthenticationAnonymous, setGlobalConfig, type Jwk } from '@openid4vc/oauth2';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { PROOF_TYP } from '../../src/protocol.js';

// The test issuer speaks plain http on 127.0.0.1.
setGlobalConfig({ allowInsecureUrls: true });

export interface HolderKey {
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function holderKey(): Promise<HolderKey> {
  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  return { privateKey, publicJwk: await exportJWK(publicKey) };
}

/** A wallet built on @openid4vc/openid4vci (the OpenID Foundation's TypeScript library), signing with `holder`. */
export function walletClient(holder: HolderKey) {
  return new Openid4vciClient({
    callbacks: {
      hash: (data, alg) => new Uint8Array(createHash(alg.replace('-', '').toLowerCase()).update(data).digest()),
      generateRandom: (bytes) => new Uint8Array(randomBytes(bytes)),
      clientAuthentication: clientAuthenticationAnonymous(),
      signJwt: async (_signer, { header, payload }) => {
        const jwt = await new SignJWT(payload as never).setProtectedHeader(header as never).sign(holder.privateKey);
        return { jwt, signerJwk: holder.publicJwk as Jwk };
      },
      fetch,
    },
  });
}

/** A hand-made proof JWT, for tests that need to bend one rule at a time. */
export async function proofJwt(
  holder: HolderKey,
  claims: { aud?: string; nonce?: string; iat?: number },
  header: Record<string, unknown> = {},
): Promise<string> {
  const jwt = new SignJWT({ ...(claims.aud !== undefined && { aud: claims.aud }), ...(claims.nonce !== undefined && { nonce: claims.nonce }) })
    .setProtectedHeader({ alg: 'ES256', typ: PROOF_TYP, jwk: holder.publicJwk, ...header } as never)
    .setIssuedAt(claims.iat ?? Math.floor(Date.now() / 1000));
  return jwt.sign(holder.privateKey);
}
