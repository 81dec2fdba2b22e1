import { randomInt } from 'node:crypto';
import type { Claims } from '../claims/claim-data.js';
import { getCachedConfigurations } from '../configurations/use-cases.js';
import type { AppContext } from '../context.js';
import { randomSecret } from '../crypto/secrets.js';
import { offerByReference, storedSecret } from '../crypto/stored-secrets.js';
import { newRowId } from '../db/ids.js';
import { conflict, invalidInput, notFound } from '../errors/domain.js';
import { audited, type AuditContext, type EventKind } from '../events/audit.js';
import { formatOf } from '../formats/index.js';
import { getUser } from '../users/store.js';
import { credentialOffer, offerUri, qrCode, qrCodeDataUri, type QrCodeFormat, type TxCodeDescription } from './offer-uri.js';
import type { CreateOfferInput, Offer, OfferStatus } from './schemas.js';
import { findLiveOfferByReference, getOffer as findOffer, isOfferByReference, listOffers as listRows, revokeOffer as revokeRow } from './store.js';

export const OFFER_EVENTS = {
  create: { type: 'OPENID_PRE_AUTHORIZED_OFFER_CREATE', category: 'OpenId' },
  delete: { type: 'OPENID_PRE_AUTHORIZED_OFFER_DELETE', category: 'OpenId' },
} as const satisfies Record<string, EventKind>;

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
  qrCode?: string;
}

/**
 * Creates a pre-authorized offer: reads the configurations and the user, fails early (400) when a
 * configuration is unknown or a required claim cannot be resolved (or has the wrong type), then writes the offer, the user
 * changes and the events in one statement. Only keyed hashes of the code and transaction code are stored.
 */
export async function createOffer(ctx: AppContext, audit: AuditContext, input: CreateOfferInput): Promise<CreatedOffer> {
  const { config, secrets } = ctx;
  const expiresInSeconds = input.expiresIn ? (input.expiresIn.minutes ?? 0) * 60 + (input.expiresIn.seconds ?? 0) : config.offers.defaultExpiresInSeconds;
  if (expiresInSeconds > config.offers.maxExpiresInSeconds) {
    throw invalidInput([{ field: 'expiresIn', message: `must be at most ${config.offers.maxExpiresInSeconds} seconds` }]);
  }

  const [configurations, existingUser] = await Promise.all([
    getCachedConfigurations(ctx, input.credentials),
    input.userId ? getUser(ctx.db, input.userId) : undefined,
  ]);
  const unknown = input.credentials.flatMap((id, index) => (configurations.some((c) => c.id === id) ? [] : [{ id, index }]));
  if (unknown.length) throw invalidInput(unknown.map(({ id, index }) => ({ field: `credentials[${index}]`, message: `unknown credential configuration ${id}` })));
  if (input.userId && !existingUser) throw invalidInput([{ field: 'userId', message: `user ${input.userId} does not exist` }]);

  const offerClaims: Claims = input.claims ?? {};
  const persisted: Claims = Object.fromEntries((input.claimsToPersist ?? []).map((name) => [name, offerClaims[name]!]));
  const userId = existingUser?.id ?? newRowId();
  // Fail here, not later in the wallet: every required claim must resolve now, to a value of its type.
  const claims = { ...existingUser?.claims, ...offerClaims };
  const problems = configurations.flatMap((configuration) =>
    formatOf(configuration)
      .claimProblems(configuration, { claims, user: { id: userId } })
      .map(({ field, message }) => ({ field, message: `${message} (credential configuration ${configuration.id})` })),
  );
  if (problems.length) throw invalidInput(problems, 'Claims are missing or of the wrong type for the credential configurations');

  const id = newRowId();
  // By reference, the code and the reference are derived from the id, so that the offer can be served
  // (and its QR code made) again without storing either.
  const reference = input.byReference ? offerByReference.reference(secrets, id) : undefined;
  const code = input.byReference ? offerByReference.code(secrets, id) : randomSecret(32);
  const txConfig = input.transactionCodeConfiguration;
  const transactionCode = txConfig && generateTransactionCode(txConfig.length, txConfig.inputMode);
  const txCode: TxCodeDescription | null = txConfig
    ? { length: txConfig.length, input_mode: txConfig.inputMode, ...(txConfig.description !== undefined && { description: txConfig.description }) }
    : null;
  const expiresAt = new Date(Date.now() + expiresInSeconds * 1000);
  const written = await ctx.writeOffer({
    id,
    codeHash: storedSecret.preAuthorizedCode(secrets, code),
    txCodeHash: transactionCode ? storedSecret.transactionCode(secrets, code, transactionCode) : null,
    userId,
    configurationIds: input.credentials,
    claims,
    expiresAt,
    user: { action: existingUser ? (input.claimsToPersist?.length ? 'merge' : 'none') : 'insert', claims: persisted },
    reference: reference ? { hash: storedSecret.offerReference(secrets, reference), txCode } : null,
    event: {
      kind: OFFER_EVENTS.create,
      audit,
      data: {
        offerId: id,
        userId,
        userCreated: !existingUser,
        credentialConfigurationIds: input.credentials,
        transactionCodeRequired: Boolean(transactionCode),
        byReference: Boolean(reference),
        expiresAt: expiresAt.toISOString(),
      },
    },
  });
  if (!written) throw conflict('A credential configuration of this offer was deleted meanwhile; try again');
  ctx.metrics.offerCreated();

  const uri = reference ? offerUri(config, { reference }) : offerUri(config, { value: credentialOffer(config, input.credentials, code, txCode) });
  return {
    id,
    userId,
    uri,
    expiresAt: expiresAt.toISOString(),
    ...(transactionCode !== undefined && { transactionCode: txConfig!.inputMode === 'numeric' ? Number(transactionCode) : transactionCode }),
    ...(input.qrCode && { qrCode: await qrCodeDataUri(uri, input.qrCode) }),
  };
}

/** Revokes a pending or locked offer and any access token its redemption issued. */
export async function revokeOffer(ctx: AppContext, audit: AuditContext, id: string): Promise<void> {
  await audited(ctx, audit, OFFER_EVENTS.delete, async (trx) => {
    if (!(await revokeRow(trx, id))) throw notFound('Offer');
    return { result: undefined, data: { offerId: id } };
  });
}

export async function getOffer(ctx: Pick<AppContext, 'db'>, id: string): Promise<Offer> {
  return (await findOffer(ctx.db, id)) ?? Promise.reject(notFound('Offer'));
}

export const listOffers = (ctx: Pick<AppContext, 'db'>, filter: { limit: number; beforeSeq?: string; status?: OfferStatus; userId?: string }) =>
  listRows(ctx.db, filter);

/**
 * The offer a wallet fetches by reference (OID4VCI 1.0 §4.1.3), while it can still be redeemed.
 * Fetching consumes nothing: a wallet may fetch it more than once.
 */
export async function offerByItsReference(ctx: Pick<AppContext, 'pool' | 'secrets' | 'config'>, reference: string): Promise<Record<string, unknown> | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(reference)) return undefined;
  const offer = await findLiveOfferByReference(ctx.pool, storedSecret.offerReference(ctx.secrets, reference));
  if (!offer) return undefined;
  return credentialOffer(ctx.config, offer.configuration_ids, offerByReference.code(ctx.secrets, offer.id), offer.tx_code);
}

/**
 * The QR code of an offer's URI. Only for offers by reference: the code of an offer by value is
 * stored only as a hash, so its URI cannot be made again (ask for `qrCode` when creating it).
 */
export async function offerQrCode(ctx: Pick<AppContext, 'db' | 'secrets' | 'config'>, id: string, format: QrCodeFormat): Promise<Buffer | string> {
  const byReference = await isOfferByReference(ctx.db, id);
  if (byReference === undefined) throw notFound('Offer');
  if (!byReference) {
    throw conflict('This offer was made by value: its code is not stored, so its URI cannot be made again. Create offers with byReference: true, or ask for qrCode when creating one');
  }
  return qrCode(offerUri(ctx.config, { reference: offerByReference.reference(ctx.secrets, id) }), format);
}
