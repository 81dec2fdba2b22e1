import { randomUUID } from 'node:crypto';
import type { AppContext } from '../context.js';
import { checkNonce, issueNonce } from '../crypto/c-nonce.js';
import { storedSecret } from '../crypto/stored-secrets.js';
import { newRowId } from '../db/ids.js';
import { OAuthError } from '../errors/oauth.js';
import type { AuditContext, EventKind } from '../events/audit.js';
import { IssuanceDenied, type ConfigurationRecord, type CredentialFormat } from '../formats/format.js';
import { formatForDraft13, formatOf } from '../formats/index.js';
import { documentSignerFor } from '../iacas/signer.js';
import { loadSigningKey } from '../keys/signing-key.js';
import { allocateStatusReferences } from '../status-lists/use-cases.js';
import { getCachedConfigurations } from '../configurations/use-cases.js';
import { verifyProof, type VerifiedProof } from './proof.js';
import type { CredentialRequest } from './schemas.js';
import type { AccessTokenGrant } from './store.js';

export const CREDENTIAL_EVENTS = {
  issue: { type: 'OPENID_CREDENTIAL_ISSUE', category: 'OpenId' },
} as const satisfies Record<string, EventKind>;

type Deps = Pick<AppContext, 'config' | 'db' | 'pool' | 'secrets' | 'caches' | 'invalidations' | 'metrics' | 'recordIssuance' | 'allocateStatusEntries'>;

/**
 * A credential request in any dialect, in one shape: the configuration asked for and its JWT proofs.
 * Dialects: OpenID4VCI 1.0 (`credential_configuration_id` + `proofs`), drafts 14-15
 * (`credential_configuration_id` + one `proof`, as Sphereon's wallets send it) and draft 13
 * (`format` + the format's own members + one `proof`).
 */
interface ParsedRequest {
  dialect: '1.0' | 'draft15' | 'draft13';
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

/** The one `proof` of drafts 13-15, as the `proofs` of 1.0. */
function singleProof(deps: Deps, proof: CredentialRequest['proof'], draft13: boolean): string[] {
  const refuse = (description: string) => {
    const error = new OAuthError('invalid_proof', description);
    // A draft 13 wallet without a c_nonce sends no proof and gets one here.
    return draft13 ? withFreshNonce(deps, error) : error;
  };
  if (!proof) throw refuse('A proof is required: credentials are bound to a holder key');
  if (proof.proof_type !== 'jwt' || typeof proof.jwt !== 'string') throw refuse("The proof must be { proof_type: 'jwt', jwt }");
  return [proof.jwt];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** An offered configuration by id; one that exists but was not offered with this token is out of its scope (RFC 6750 §3.1). */
async function offeredConfiguration(deps: Deps, grant: AccessTokenGrant, id: string): Promise<ConfigurationRecord> {
  const configuration = grant.configurations.find((c) => c.id === id);
  if (configuration) return configuration;
  const [exists] = UUID.test(id) ? await getCachedConfigurations(deps, [id]) : [];
  if (!exists) throw new OAuthError('unknown_credential_configuration', 'This issuer has no such credential configuration');
  throw new OAuthError('insufficient_scope', 'This credential configuration was not offered with this access token', 403, {
    'www-authenticate': `Bearer realm="${deps.config.publicUrl}", error="insufficient_scope"`,
  });
}

/** Works out which configuration is asked for and which proofs come with it, in any dialect. */
async function parseRequest(deps: Deps, grant: AccessTokenGrant, body: CredentialRequest): Promise<ParsedRequest> {
  if (body.credential_identifier !== undefined) {
    throw new OAuthError('unknown_credential_identifier', 'This issuer does not issue credential identifiers; use credential_configuration_id');
  }
  // §8.3: credential_response_encryption asks for something this issuer does not do; never answer in plaintext.
  if (body.credential_response_encryption !== undefined) {
    throw new OAuthError('invalid_encryption_parameters', 'This issuer does not encrypt credential responses');
  }
  if (body.credential_configuration_id !== undefined || body.proofs !== undefined) {
    const id = body.credential_configuration_id;
    if (!id) throw new OAuthError('invalid_credential_request', 'credential_configuration_id is required');
    const configuration = await offeredConfiguration(deps, grant, id);
    const format = formatOf(configuration);
    if (body.proofs === undefined && body.proof !== undefined) {
      if (typeof body.format === 'string' && !format.draft13Formats.includes(body.format)) throw new OAuthError('invalid_credential_request', 'format does not match the configuration');
      return { dialect: 'draft15', configuration, format, proofs: singleProof(deps, body.proof, false) };
    }
    if (!body.proofs) throw new OAuthError('invalid_proof', 'proofs is required: credentials are bound to a holder key');
    if (body.proof !== undefined) throw new OAuthError('invalid_credential_request', 'Send proofs or proof, not both');
    const proofTypes = Object.keys(body.proofs);
    if (proofTypes.length !== 1 || !Array.isArray(body.proofs.jwt) || body.proofs.jwt.length === 0) {
      throw new OAuthError('invalid_proof', "proofs must have exactly one member, 'jwt', a non-empty array");
    }
    if (body.proofs.jwt.length > deps.config.credentials.batchSize) {
      throw new OAuthError('invalid_credential_request', `At most ${deps.config.credentials.batchSize} proofs per request (batch_size)`);
    }
    return { dialect: '1.0', configuration, format, proofs: body.proofs.jwt };
  }
  if (body.format !== undefined) {
    // Draft 13 §7.2: format and the format's own members, one proof.
    const format = formatForDraft13(body.format);
    if (!format) throw new OAuthError('unsupported_credential_format', 'This issuer does not issue credentials of this format');
    const configuration = grant.configurations.find((c) => c.format === format.id && format.namedByDraft13Request(body, c));
    if (!configuration) throw new OAuthError('unsupported_credential_type', 'No credential of this type was offered with this access token');
    return { dialect: 'draft13', configuration, format, draft13Format: body.format, proofs: singleProof(deps, body.proof, true) };
  }
  throw new OAuthError('invalid_credential_request', 'Either credential_configuration_id (OpenID4VCI 1.0) or format and its type (draft 13) is required');
}

/** Every dialect's response carries the notification_id of its credentials (1.0 §8.3, draft 13 §7.3). */
export type CredentialResponse = { notification_id: string } & (
  | { credentials: { credential: string }[] }
  | { credentials: { credential: string }[]; credential: string; c_nonce: string; c_nonce_expires_in: number }
  | { credential: string; c_nonce: string; c_nonce_expires_in: number }
);

/**
 * Credential endpoint (OID4VCI 1.0 §8, drafts 13-15): one configuration, one credential per proof.
 * A wallet that lost a response may ask again, with new proofs of the same keys, while its access
 * token lives: it gets those credentials again, signed anew.
 */
export async function issueCredentials(deps: Deps, audit: AuditContext, grant: AccessTokenGrant, body: CredentialRequest): Promise<CredentialResponse> {
  const { config, secrets } = deps;
  const request = await parseRequest(deps, grant, body);
  const draft13 = request.dialect === 'draft13';
  // Draft 13 knows no invalid_nonce: nonce problems are invalid_proof there, with a fresh c_nonce (§7.3.1.2).
  const proofError = (error: OAuthError) =>
    draft13 ? withFreshNonce(deps, error.error === 'invalid_nonce' ? new OAuthError('invalid_proof', error.description) : error) : error;

  const { configuration, format } = request;
  const again = grant.issued_configuration_ids.includes(configuration.id);

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
    // §8.3.1.2: a proof without the nonce the issuer asks for is an invalid proof; a wrong one, an invalid nonce.
    if (!check.valid) {
      throw proofError(
        check.missing
          ? new OAuthError('invalid_proof', 'The proof has no nonce: get a c_nonce from the nonce endpoint')
          : new OAuthError('invalid_nonce', `${check.reason[0]!.toUpperCase()}${check.reason.slice(1)}`),
      );
    }
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
      {
        config,
        db: deps.db,
        secrets,
        signingKey: () => loadSigningKey(deps),
        documentSigner: () => documentSignerFor(deps, audit),
        statusReferences: async (signer, count) =>
          configuration.includeStatus
            ? allocateStatusReferences(deps, {
                kind: format.statusListKind,
                signer: signer.reference,
                signerExpiresAt: signer.expiresAt,
                bits: configuration.statusListBits ?? 1,
                count,
              })
            : undefined,
      },
      { configuration, source, holders: proofs, issuedAt: new Date(), draft13Format: request.draft13Format },
    );
  } catch (error) {
    throw error instanceof IssuanceDenied ? new OAuthError('credential_request_denied', error.message) : error;
  }

  const notificationId = randomUUID();
  const outcome = await deps.recordIssuance({
    accessTokenId: grant.id,
    offerId: grant.offer_id,
    userId: grant.user_id,
    configurationId: configuration.id,
    format: format.id,
    type: configuration.type,
    nonces: [...nonces.values()],
    credentials: issued.map((credential) => ({
      id: newRowId(),
      holderKeyThumbprint: credential.holderKeyThumbprint,
      hash: storedSecret.issuedCredential(credential.credential),
      issuerKid: credential.issuerKid,
      validFrom: credential.validFrom,
      expiresAt: credential.expiresAt,
      status: credential.status ? { listId: credential.status.listId, idx: credential.status.idx } : null,
    })),
    notificationId,
    again,
    event: { kind: CREDENTIAL_EVENTS.issue, audit },
  });
  if (outcome === 'nonce-used') throw proofError(new OAuthError('invalid_nonce', 'The proof has a c_nonce that was used before'));
  if (outcome === 'denied') {
    throw new OAuthError(
      'credential_request_denied',
      again
        ? 'This access token has issued this credential configuration already, to other holder keys'
        : 'This access token has already been used for this credential configuration, or is no longer valid',
    );
  }

  deps.metrics.credentialsIssued(format.id, configuration.id, issued.length);
  const credentials = issued.map(({ credential }) => ({ credential }));
  if (request.dialect === '1.0') return { credentials, notification_id: notificationId };
  const { nonce } = issueNonce(secrets, config.oauth.cNonceExpiresInSeconds);
  const next = { c_nonce: nonce, c_nonce_expires_in: config.oauth.cNonceExpiresInSeconds };
  // Drafts 14-15 wallets read `credentials` or `credential`, and the c_nonce for their next request.
  if (request.dialect === 'draft15') return { credentials, credential: issued[0]!.credential, ...next, notification_id: notificationId };
  return { credential: issued[0]!.credential, ...next, notification_id: notificationId };
}
