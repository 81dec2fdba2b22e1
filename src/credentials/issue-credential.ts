import type { AppContext } from '../context.js';
import { checkNonce, issueNonce } from '../crypto/c-nonce.js';
import { storedSecret } from '../crypto/stored-secrets.js';
import { newRowId } from '../db/ids.js';
import { OAuthError, invalidToken } from '../errors/oauth.js';
import type { AuditContext, EventKind } from '../events/audit.js';
import { IssuanceDenied, type ConfigurationRecord, type CredentialFormat } from '../formats/format.js';
import { formatForDraft13, formatOf } from '../formats/index.js';
import { documentSignerFor } from '../iacas/signer.js';
import { loadSigningKey } from '../keys/signing-key.js';
import { verifyProof, type VerifiedProof } from './proof.js';
import type { CredentialRequest } from './schemas.js';
import { findAccessToken, recordIssuance, type AccessTokenGrant } from './store.js';

export const CREDENTIAL_EVENTS = {
  issue: { type: 'OPENID_CREDENTIAL_ISSUE', category: 'OpenId' },
} as const satisfies Record<string, EventKind>;

type Deps = Pick<AppContext, 'config' | 'db' | 'pool' | 'secrets' | 'caches' | 'invalidations'>;

/** RFC 6750: `Authorization: Bearer <token>`; anything wrong with the token is a 401. */
export async function authenticateAccessToken(deps: Pick<AppContext, 'pool' | 'secrets'>, authorization: string | undefined): Promise<AccessTokenGrant> {
  const match = /^Bearer ([\w.~+/-]{1,512}=*)$/i.exec(authorization ?? '');
  if (!match) throw invalidToken('A Bearer access token is required');
  const grant = await findAccessToken(deps.pool, storedSecret.accessToken(deps.secrets, match[1]!));
  if (!grant) throw invalidToken('Unknown access token');
  if (grant.revoked) throw invalidToken('The access token has been revoked');
  if (grant.expired) throw invalidToken('The access token has expired');
  return grant;
}

/** A credential request in either dialect, in one shape: the configuration asked for and its JWT proofs. */
interface ParsedRequest {
  dialect: '1.0' | 'draft13';
  configuration: ConfigurationRecord;
  format: CredentialFormat;
  /** The `format` a draft-13 request named. */
  draft13Format?: string;
  proofs: string[];
}

/** Draft 13 wallets expect a fresh c_nonce with proof and nonce errors so they can retry (draft 13 §7.3.2). */
function withFreshNonce(deps: Deps, error: OAuthError): OAuthError {
  const expiresIn = deps.config.oauth.cNonceExpiresInSeconds;
  const { nonce } = issueNonce(deps.secrets, expiresIn);
  return new OAuthError(error.error, error.description, error.statusCode, error.headers, { c_nonce: nonce, c_nonce_expires_in: expiresIn });
}

/**
 * Works out which configuration is asked for and which proofs come with it: OID4VCI 1.0
 * (`credential_configuration_id` + `proofs`) or draft 13 (`format` + its members + one `proof`,
 * turned into `proofs` here, so that issuance sees one shape).
 */
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
    return { dialect: '1.0', configuration, format: formatOf(configuration), proofs: body.proofs.jwt };
  }
  if (body.format !== undefined) {
    // Draft 13 §7.2: format and the format's own members, one proof.
    const format = formatForDraft13(body.format);
    if (!format) throw new OAuthError('unsupported_credential_format', `This issuer does not issue the format ${body.format}`);
    const configuration = grant.configurations.find((c) => c.format === format.id && format.namedByDraft13Request(body, c));
    if (!configuration) throw new OAuthError('unsupported_credential_type', 'No credential of this type was offered with this access token');
    // A draft 13 wallet without a c_nonce sends no proof and gets one here.
    if (!body.proof) throw withFreshNonce(deps, new OAuthError('invalid_proof', 'proof is required: credentials are bound to a holder key'));
    if (body.proof.proof_type !== 'jwt' || typeof body.proof.jwt !== 'string') {
      throw withFreshNonce(deps, new OAuthError('invalid_proof', 'proof must be { proof_type: "jwt", jwt }'));
    }
    return { dialect: 'draft13', configuration, format, draft13Format: body.format, proofs: [body.proof.jwt] };
  }
  throw new OAuthError('invalid_credential_request', 'Either credential_configuration_id (OpenID4VCI 1.0) or format and its type (draft 13) is required');
}

export type CredentialResponse = { credentials: { credential: string }[] } | { credential: string; c_nonce: string; c_nonce_expires_in: number };

/** Credential endpoint (OID4VCI 1.0 §8, draft 13 §7): one configuration, one credential per proof. */
export async function issueCredentials(deps: Deps, audit: AuditContext, grant: AccessTokenGrant, body: CredentialRequest): Promise<CredentialResponse> {
  const { config, secrets } = deps;
  const request = parseRequest(deps, grant, body);
  const draft13 = request.dialect === 'draft13';
  const proofError = (error: OAuthError) => (draft13 ? withFreshNonce(deps, error) : error);

  const { configuration, format } = request;
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
  // §8.3: each key binds at most one credential of a batch.
  if (new Set(proofs.map((proof) => proof.thumbprint)).size < proofs.length) {
    throw proofError(new OAuthError('invalid_proof', 'Each proof of a batch must be signed by a key of its own'));
  }

  const source = { claims: grant.claims, user: { id: grant.user_id } };
  const problems = format.claimProblems(configuration, source);
  if (problems.length) {
    throw new OAuthError('credential_request_denied', `The claims cannot make this credential: ${problems.map((p) => `${p.field} ${p.message}`).join('; ')}`);
  }

  let issued;
  try {
    issued = await format.issue(
      { config, db: deps.db, secrets, signingKey: () => loadSigningKey(deps), documentSigner: () => documentSignerFor(deps, audit) },
      { configuration, source, holders: proofs, issuedAt: new Date(), draft13Format: request.draft13Format },
    );
  } catch (error) {
    throw error instanceof IssuanceDenied ? new OAuthError('credential_request_denied', error.message) : error;
  }

  const outcome = await recordIssuance(deps.pool, {
    accessTokenId: grant.id,
    offerId: grant.offer_id,
    userId: grant.user_id,
    configurationId: configuration.id,
    format: format.id,
    nonces: [...nonces.values()],
    credentials: issued.map((credential) => ({
      id: newRowId(),
      holderKeyThumbprint: credential.holderKeyThumbprint,
      hash: storedSecret.issuedCredential(credential.credential),
      issuerKid: credential.issuerKid,
      expiresAt: credential.expiresAt,
    })),
    event: { kind: CREDENTIAL_EVENTS.issue, audit },
  });
  if (outcome === 'nonce-used') throw proofError(new OAuthError('invalid_nonce', 'c_nonce has already been used'));
  if (outcome === 'denied') throw new OAuthError('credential_request_denied', 'This access token has already been used for this credential configuration, or is no longer valid');

  if (draft13) {
    const { nonce } = issueNonce(secrets, config.oauth.cNonceExpiresInSeconds);
    return { credential: issued[0]!.credential, c_nonce: nonce, c_nonce_expires_in: config.oauth.cNonceExpiresInSeconds };
  }
  return { credentials: issued.map(({ credential }) => ({ credential })) };
}
