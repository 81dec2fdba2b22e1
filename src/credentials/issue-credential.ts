import type { AppContext } from '../app.js';
import { findForbiddenClaimKey } from '../claims/claim-data.js';
import { resolveClaims } from '../configurations/claims.js';
import { formatPath } from '../http/errors.js';
import { addPeriod, type Configuration } from '../configurations/schemas.js';
import type { EventContext, EventKind } from '../events/record.js';
import { OAuthError, invalidToken } from '../http/oauth-errors.js';
import { getSigningKey } from '../keys/issuer-keys.js';
import { checkNonce, issueNonce } from '../oauth/nonce.js';
import { hashAccessToken } from '../oauth/token.js';
import { newRowId } from '../db/ids.js';
import { verifyProof, type VerifiedProof } from './proof.js';
import type { CredentialRequest } from './schemas.js';
import { credentialHash, signSdJwtVc, type SdJwtTyp } from './sd-jwt.js';
import { findAccessToken, recordIssuance, type AccessTokenGrant } from './store.js';

type Deps = Pick<AppContext, 'config' | 'db' | 'pool' | 'secrets'>;

const SD_JWT_FORMATS = ['dc+sd-jwt', 'vc+sd-jwt'];

/** RFC 6750: `Authorization: Bearer <token>`; anything wrong with the token is a 401. */
export async function authenticateAccessToken(deps: Deps, authorization: string | undefined): Promise<AccessTokenGrant> {
  const match = /^Bearer ([\w.~+/-]{1,512}=*)$/i.exec(authorization ?? '');
  if (!match) throw invalidToken('A Bearer access token is required');
  const grant = await findAccessToken(deps.pool, hashAccessToken(deps.secrets, match[1]!));
  if (!grant) throw invalidToken('Unknown access token');
  if (grant.revoked) throw invalidToken('The access token has been revoked');
  if (grant.expired) throw invalidToken('The access token has expired');
  return grant;
}

interface ParsedRequest {
  dialect: '1.0' | 'draft13';
  /** The credential's typ: the format the wallet asked for (draft 13) or the one the metadata advertises. */
  typ: SdJwtTyp;
  configuration: Configuration;
  proofs: string[];
}

/** Draft 13 wallets expect a fresh c_nonce with proof and nonce errors so they can retry (draft 13 §7.3.2). */
function withFreshNonce(deps: Deps, error: OAuthError): OAuthError {
  const expiresIn = deps.config.oauth.cNonceExpiresInSeconds;
  const { nonce } = issueNonce(deps.secrets, expiresIn);
  return new OAuthError(error.error, error.description, error.statusCode, error.headers, { c_nonce: nonce, c_nonce_expires_in: expiresIn });
}

/** Works out which configuration is asked for and which proofs come with it, in either dialect. */
function parseRequest(deps: Deps, grant: AccessTokenGrant, body: CredentialRequest): ParsedRequest {
  if (body.credential_identifier !== undefined) {
    throw new OAuthError('unknown_credential_identifier', 'This issuer does not issue credential identifiers; use credential_configuration_id');
  }
  if (body.credential_configuration_id !== undefined || body.proofs !== undefined) {
    const id = body.credential_configuration_id;
    if (!id) throw new OAuthError('invalid_credential_request', 'credential_configuration_id is required');
    const configuration = grant.configurations.find((c) => c.id === id);
    if (!configuration) throw new OAuthError('unknown_credential_configuration', `Credential configuration ${id} was not offered with this access token`);
    if (!body.proofs) throw new OAuthError('invalid_proof', 'proofs is required: credentials are bound to a holder key');
    const proofTypes = Object.keys(body.proofs);
    if (proofTypes.length !== 1 || !Array.isArray(body.proofs.jwt) || body.proofs.jwt.length === 0) {
      throw new OAuthError('invalid_proof', 'proofs must have exactly one member, "jwt", a non-empty array');
    }
    if (body.proofs.jwt.length > deps.config.credentials.batchSize) {
      throw new OAuthError('invalid_credential_request', `At most ${deps.config.credentials.batchSize} proofs per request (batch_size)`);
    }
    return { dialect: '1.0', typ: deps.config.credentials.sdJwtFormat, configuration, proofs: body.proofs.jwt };
  }
  if (body.format !== undefined) {
    // Draft 13 §7.2: format + vct, one proof.
    if (!SD_JWT_FORMATS.includes(body.format)) throw new OAuthError('unsupported_credential_format', `Only ${SD_JWT_FORMATS.join(' and ')} are supported`);
    const configuration = grant.configurations.find((c) => c.type === body.vct);
    if (!configuration) throw new OAuthError('unsupported_credential_type', body.vct === undefined ? 'vct is required' : 'This vct was not offered with this access token');
    // A draft 13 wallet without a c_nonce sends no proof and gets one here.
    if (!body.proof) throw withFreshNonce(deps, new OAuthError('invalid_proof', 'proof is required: credentials are bound to a holder key'));
    if (body.proof.proof_type !== 'jwt' || typeof body.proof.jwt !== 'string') {
      throw withFreshNonce(deps, new OAuthError('invalid_proof', 'proof must be { proof_type: "jwt", jwt }'));
    }
    return { dialect: 'draft13', typ: body.format as SdJwtTyp, configuration, proofs: [body.proof.jwt] };
  }
  throw new OAuthError('invalid_credential_request', 'Either credential_configuration_id (OpenID4VCI 1.0) or format and vct (draft 13) is required');
}

export type CredentialResponse = { credentials: { credential: string }[] } | { credential: string; c_nonce: string; c_nonce_expires_in: number };

/** Credential endpoint (OID4VCI 1.0 §8, draft 13 §7): one configuration, one credential per proof. */
export async function issueCredentials(
  deps: Deps,
  grant: AccessTokenGrant,
  body: CredentialRequest,
  event: EventKind & EventContext,
): Promise<CredentialResponse> {
  const { config, secrets } = deps;
  const request = parseRequest(deps, grant, body);
  const draft13 = request.dialect === 'draft13';
  const proofError = (error: OAuthError) => (draft13 ? withFreshNonce(deps, error) : error);

  const { configuration } = request;
  if (grant.issued_configuration_ids.includes(configuration.id)) {
    throw new OAuthError('credential_request_denied', 'This access token has already been used for this credential configuration');
  }

  let proofs: VerifiedProof[];
  try {
    proofs = await Promise.all(
      request.proofs.map((jwt) =>
        verifyProof(jwt, { audience: config.publicUrl, maxAgeSeconds: config.credentials.proofMaxAgeSeconds, clockSkewSeconds: config.credentials.clockSkewSeconds }),
      ),
    );
  } catch (error) {
    throw error instanceof OAuthError ? proofError(error) : error;
  }
  const nonces = new Map<string, { hash: Buffer; expiresAt: Date }>();
  for (const proof of proofs) {
    const check = checkNonce(secrets, proof.nonce);
    if (!check.valid) throw proofError(new OAuthError('invalid_nonce', check.reason));
    nonces.set(check.hash.toString('hex'), check);
  }

  const { claims, missing } = resolveClaims(configuration.claimMappings, { claims: grant.claims, user: { id: grant.user_id } });
  if (missing.length) {
    throw new OAuthError('credential_request_denied', `Required claims are missing: ${missing.map((m) => m.name).join(', ')}`);
  }
  // Refused where claim data enters; checked again here for data stored before that rule existed.
  const forbidden = findForbiddenClaimKey(Object.fromEntries(claims.map(({ name, value }) => [name, value])));
  if (forbidden) throw new OAuthError('credential_request_denied', `The claim data holds a reserved name at ${formatPath(forbidden)}`);

  const signingKey = await getSigningKey(deps);
  const issuedAt = new Date();
  const expiresAt = configuration.expiresIn ? addPeriod(issuedAt, configuration.expiresIn) : null;
  const credentials = await Promise.all(
    proofs.map(async (proof) => {
      const credential = await signSdJwtVc({
        typ: request.typ,
        signingKey,
        iss: config.publicUrl,
        vct: configuration.type,
        iat: Math.floor(issuedAt.getTime() / 1000),
        exp: expiresAt ? Math.floor(expiresAt.getTime() / 1000) : undefined,
        holderJwk: proof.jwk,
        claims,
      });
      return { credential, id: newRowId(), holderKeyThumbprint: proof.thumbprint, hash: credentialHash(credential), issuerKid: signingKey.kid, expiresAt };
    }),
  );

  const outcome = await recordIssuance(deps.pool, {
    accessTokenId: grant.id,
    offerId: grant.offer_id,
    userId: grant.user_id,
    configurationId: configuration.id,
    nonces: [...nonces.values()],
    credentials,
    event,
  });
  if (outcome === 'nonce-used') throw proofError(new OAuthError('invalid_nonce', 'c_nonce has already been used'));
  if (outcome === 'denied') throw new OAuthError('credential_request_denied', 'This access token has already been used for this credential configuration, or is no longer valid');

  if (draft13) {
    const { nonce } = issueNonce(secrets, config.oauth.cNonceExpiresInSeconds);
    return { credential: credentials[0]!.credential, c_nonce: nonce, c_nonce_expires_in: config.oauth.cNonceExpiresInSeconds };
  }
  return { credentials: credentials.map(({ credential }) => ({ credential })) };
}
