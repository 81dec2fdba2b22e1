import { randomInt, randomUUID } from 'node:crypto';
import type { Config } from '../config.js';
import { resolveClaims } from '../configurations/claims.js';
import { getConfigurationsForOffer } from '../configurations/store.js';
import { randomSecret, type SecretKeys } from '../crypto/secrets.js';
import type { Tx } from '../db/database.js';
import { badRequest, type ErrorDetail } from '../http/errors.js';
import type { Claims } from '../users/schemas.js';
import { getUser, insertUser, replaceUserClaims } from '../users/store.js';
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
  userCreated: boolean;
}

/**
 * Creates a pre-authorized offer inside the caller's transaction: checks the configurations and the
 * user, persists claims when asked, fails early when a required claim cannot be resolved, and
 * stores only hashes of the code and the transaction code.
 */
export async function createOffer(deps: { config: Config; secrets: SecretKeys }, trx: Tx, input: CreateOfferInput): Promise<CreatedOffer> {
  const { config, secrets } = deps;
  const expiresInSeconds = input.expiresIn ? (input.expiresIn.minutes ?? 0) * 60 + (input.expiresIn.seconds ?? 0) : config.offers.defaultExpiresInSeconds;
  if (expiresInSeconds > config.offers.maxExpiresInSeconds) {
    throw badRequest('Validation Error', [{ location: 'body', param: 'expiresIn', msg: `must be at most ${config.offers.maxExpiresInSeconds} seconds` }]);
  }

  const configurations = await getConfigurationsForOffer(trx, input.credentials);
  const unknown = input.credentials.flatMap((id, index) => (configurations.some((c) => c.id === id) ? [] : [{ id, index }]));
  if (unknown.length) {
    throw badRequest(
      'Validation Error',
      unknown.map(({ id, index }) => ({ location: 'body', param: `credentials[${index}]`, msg: `unknown credential configuration ${id}` })),
    );
  }

  const offerClaims: Claims = input.claims ?? {};
  const persisted: Claims = Object.fromEntries((input.claimsToPersist ?? []).map((name) => [name, offerClaims[name]!]));
  let user;
  if (input.userId) {
    user = await getUser(trx, input.userId, { forUpdate: Boolean(input.claimsToPersist?.length) });
    if (!user) throw badRequest('Validation Error', [{ location: 'body', param: 'userId', msg: `user ${input.userId} does not exist` }]);
    if (input.claimsToPersist?.length) user = (await replaceUserClaims(trx, user.id, { ...user.claims, ...persisted }))!;
  } else {
    user = await insertUser(trx, randomUUID(), persisted);
  }

  // Fail here, not later in the wallet: every required claim must resolve now.
  const claims = { ...user.claims, ...offerClaims };
  const missing: ErrorDetail[] = configurations.flatMap((configuration) =>
    resolveClaims(configuration.claimMappings, { claims, user: { id: user.id } }).missing.map(({ name, mapFrom }) => ({
      location: 'body' as const,
      param: mapFrom,
      msg: `required by credential configuration ${configuration.id} for claim "${name}"`,
    })),
  );
  if (missing.length) throw badRequest('Required claims are missing', missing);

  const id = randomUUID();
  const code = randomSecret(32);
  const txConfig = input.transactionCodeConfiguration;
  const transactionCode = txConfig && generateTransactionCode(txConfig.length, txConfig.inputMode);
  const expiresAt = new Date(Date.now() + expiresInSeconds * 1000);
  await insertOffer(trx, {
    id,
    codeHash: hashPreAuthorizedCode(secrets, code),
    txCodeHash: transactionCode ? hashTransactionCode(secrets, code, transactionCode) : null,
    userId: user.id,
    configurationIds: input.credentials,
    claims,
    expiresAt,
  });

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
    userId: user.id,
    uri: `openid-credential-offer://?credential_offer=${encodeURIComponent(JSON.stringify(offer))}`,
    expiresAt: expiresAt.toISOString(),
    userCreated: !input.userId,
    ...(transactionCode !== undefined && { transactionCode: txConfig!.inputMode === 'numeric' ? Number(transactionCode) : transactionCode }),
  };
}
