import { randomInt } from 'node:crypto';
import { resolveClaims } from '../configurations/claims.js';
import { getConfigurations } from '../configurations/store.js';
import { randomSecret, type SecretKeys } from '../crypto/secrets.js';
import type { AppContext } from '../app.js';
import type { EventContext, EventKind } from '../events/record.js';
import { badRequest, conflict, type ErrorDetail } from '../http/errors.js';
import type { Claims } from '../users/schemas.js';
import { getUser } from '../users/store.js';
import { newRowId } from '../db/ids.js';
import type { CreateOfferInput } from './schemas.js';
import { insertOffer } from './store.js';

export const PRE_AUTHORIZED_GRANT = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';

/**
 * Keyed hashes. The transaction code is bound to its pre-authorized code, so equal codes of two offers
 * hash differently, and the token endpoint can compute both hashes before touching the database.
 */
export const hashPreAuthorizedCode = (secrets: SecretKeys, code: string) => secrets.hash('pre-authorized-code', code);
export const hashTransactionCode = (secrets: SecretKeys, preAuthorizedCode: string, txCode: string) =>
  secrets.hash('tx-code', `${preAuthorizedCode}:${txCode}`);

const TEXT_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789'; // no 0/O, 1/I: codes are typed by people

/** Numeric codes never start with 0, so the JSON number keeps its length. */
export function generateTransactionCode(length: number, inputMode: 'numeric' | 'text'): string {
  if (inputMode === 'numeric') {
    let code = String(randomInt(1, 10));
    while (code.length < length) code += String(randomInt(0, 10));
    return code;
  }
  let code = '';
  while (code.length < length) code += TEXT_ALPHABET[randomInt(0, TEXT_ALPHABET.length)];
  return code;
}

export interface CreatedOffer {
  id: string;
  userId: string;
  uri: string;
  expiresAt: string;
  transactionCode?: number | string;
}

/**
 * Creates a pre-authorized offer: reads the configurations and the user, fails early (400) when a
 * configuration is unknown or a required claim cannot be resolved, then writes the offer, the user
 * changes and the events in one statement. Only keyed hashes of the code and transaction code are stored.
 */
export async function createOffer(
  deps: Pick<AppContext, 'db' | 'pool' | 'config' | 'secrets' | 'caches'>,
  input: CreateOfferInput,
  event: EventKind & EventContext,
): Promise<CreatedOffer> {
  const { config, secrets } = deps;
  const expiresInSeconds = input.expiresIn ? (input.expiresIn.minutes ?? 0) * 60 + (input.expiresIn.seconds ?? 0) : config.offers.defaultExpiresInSeconds;
  if (expiresInSeconds > config.offers.maxExpiresInSeconds) {
    throw badRequest('Validation Error', [{ location: 'body', param: 'expiresIn', msg: `must be at most ${config.offers.maxExpiresInSeconds} seconds` }]);
  }

  const [configurations, existingUser] = await Promise.all([
    getConfigurations(deps.db, deps.caches.configurations, input.credentials),
    input.userId ? getUser(deps.db, input.userId) : undefined,
  ]);
  const unknown = input.credentials.flatMap((id, index) => (configurations.some((c) => c.id === id) ? [] : [{ id, index }]));
  if (unknown.length) {
    throw badRequest(
      'Validation Error',
      unknown.map(({ id, index }) => ({ location: 'body', param: `credentials[${index}]`, msg: `unknown credential configuration ${id}` })),
    );
  }
  if (input.userId && !existingUser) {
    throw badRequest('Validation Error', [{ location: 'body', param: 'userId', msg: `user ${input.userId} does not exist` }]);
  }

  const offerClaims: Claims = input.claims ?? {};
  const persisted: Claims = Object.fromEntries((input.claimsToPersist ?? []).map((name) => [name, offerClaims[name]!]));
  const userId = existingUser?.id ?? newRowId();
  // Fail here, not later in the wallet: every required claim must resolve now.
  const claims = { ...existingUser?.claims, ...offerClaims };
  const missing: ErrorDetail[] = configurations.flatMap((configuration) =>
    resolveClaims(configuration.claimMappings, { claims, user: { id: userId } }).missing.map(({ name, mapFrom }) => ({
      location: 'body' as const,
      param: mapFrom,
      msg: `required by credential configuration ${configuration.id} for claim "${name}"`,
    })),
  );
  if (missing.length) throw badRequest('Required claims are missing', missing);

  const id = newRowId();
  const code = randomSecret(32);
  const txConfig = input.transactionCodeConfiguration;
  const transactionCode = txConfig && generateTransactionCode(txConfig.length, txConfig.inputMode);
  const expiresAt = new Date(Date.now() + expiresInSeconds * 1000);
  const written = await insertOffer(deps.pool, {
    id,
    codeHash: hashPreAuthorizedCode(secrets, code),
    txCodeHash: transactionCode ? hashTransactionCode(secrets, code, transactionCode) : null,
    userId,
    configurationIds: input.credentials,
    claims,
    expiresAt,
    user: { action: existingUser ? (input.claimsToPersist?.length ? 'merge' : 'none') : 'insert', claims: persisted },
    event: {
      ...event,
      data: {
        offerId: id,
        userId,
        userCreated: !existingUser,
        credentialConfigurationIds: input.credentials,
        transactionCodeRequired: Boolean(transactionCode),
        expiresAt: expiresAt.toISOString(),
      },
    },
  });
  if (!written) throw conflict('A credential configuration of this offer was deleted meanwhile; try again');

  // OID4VCI 1.0 §4.1.1; `credentials` repeats the ids for wallets on older drafts.
  const grant: Record<string, unknown> = { 'pre-authorized_code': code };
  if (txConfig) {
    grant.tx_code = { length: txConfig.length, input_mode: txConfig.inputMode, ...(txConfig.description !== undefined && { description: txConfig.description }) };
  }
  const offer = {
    credential_issuer: config.publicUrl,
    credential_configuration_ids: input.credentials,
    credentials: input.credentials,
    grants: { [PRE_AUTHORIZED_GRANT]: grant },
  };
  return {
    id,
    userId,
    uri: `openid-credential-offer://?credential_offer=${encodeURIComponent(JSON.stringify(offer))}`,
    expiresAt: expiresAt.toISOString(),
    ...(transactionCode !== undefined && { transactionCode: txConfig!.inputMode === 'numeric' ? Number(transactionCode) : transactionCode }),
  };
}
