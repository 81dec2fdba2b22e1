import QRCode from 'qrcode';
import type { Config } from '../config.js';
import { CREDENTIAL_OFFER_SCHEME, PRE_AUTHORIZED_GRANT, WALLET_PATHS } from '../protocol.js';

/** The tx_code object of an offer (OID4VCI 1.0 §4.1.1): what the wallet asks the person for. No secret. */
export interface TxCodeDescription {
  length: number;
  input_mode: 'numeric' | 'text';
  description?: string;
}

/** The Credential Offer object (OID4VCI 1.0 §4.1.1). */
export function credentialOffer(config: Config, configurationIds: string[], code: string, txCode: TxCodeDescription | null) {
  return {
    credential_issuer: config.publicUrl,
    credential_configuration_ids: configurationIds,
    // Drafts 11 and before named them `credentials`; only when asked for, as some wallets refuse an
    // offer that has both.
    ...(config.offers.legacyCredentials && { credentials: configurationIds }),
    grants: { [PRE_AUTHORIZED_GRANT]: { 'pre-authorized_code': code, ...(txCode && { tx_code: txCode }) } },
  };
}

/** Where an offer by reference is served (public; the reference is the secret). */
export const offerReferenceUrl = (config: Config, reference: string) => `${config.publicUrl}${WALLET_PATHS.credentialOffer}/${reference}`;

/**
 * The offer URI a wallet opens (OID4VCI 1.0 §4.1): the offer itself, or where to fetch it, after the
 * custom scheme or the wallet's own https link (WALLET_OFFER_URL).
 */
export function offerUri(config: Config, offer: { value: object } | { reference: string }): string {
  const base = config.offers.walletUrl ?? CREDENTIAL_OFFER_SCHEME;
  const query =
    'value' in offer
      ? `credential_offer=${encodeURIComponent(JSON.stringify(offer.value))}`
      : `credential_offer_uri=${encodeURIComponent(offerReferenceUrl(config, offer.reference))}`;
  return `${base}${base.includes('?') ? '&' : '?'}${query}`;
}

export type QrCodeFormat = 'png' | 'svg';

/** A QR code of `uri` (error correction M, a 4-module quiet zone). */
export async function qrCode(uri: string, format: QrCodeFormat): Promise<Buffer | string> {
  if (format === 'svg') return QRCode.toString(uri, { type: 'svg', errorCorrectionLevel: 'M', margin: 4 });
  return QRCode.toBuffer(uri, { type: 'png', errorCorrectionLevel: 'M', margin: 4, scale: 6 });
}

/** The same QR code as a data: URI, for a page to show as it is. */
export async function qrCodeDataUri(uri: string, format: QrCodeFormat): Promise<string> {
  const image = await qrCode(uri, format);
  return format === 'svg' ? `data:image/svg+xml;base64,${Buffer.from(image).toString('base64')}` : `data:image/png;base64,${(image as Buffer).toString('base64')}`;
}
