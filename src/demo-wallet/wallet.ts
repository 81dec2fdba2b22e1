import { createHash, randomUUID } from 'node:crypto';
import { SignJWT, calculateJwkThumbprint, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';
import { PRE_AUTHORIZED_GRANT, PROOF_TYP, WELL_KNOWN } from '../protocol.js';
import { decodeMdoc, decodeSdJwt, type DecodedMdoc, type DecodedSdJwt } from './decode.js';

/**
 * A demo wallet: what a wallet app does with a credential offer, in plain steps, for people trying
 * the issuer and for curl users who want to see each exchange. It keeps nothing: a fresh key signs
 * the proofs, and the credentials are only decoded and returned.
 */

// The issuer's documents and answers, read member by member as a wallet does (a missing member fails the step that needs it).
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

export interface TxCodeRequest {
  length?: number;
  input_mode?: string;
  description?: string;
}

export interface WalletOptions {
  txCode?: string;
  /** Asked for a transaction code when the offer needs one and `txCode` is not given. */
  askTxCode?: (request: TxCodeRequest) => Promise<string>;
  /** Use DPoP when the token endpoint supports it (default), as HAIP wallets do; false: Bearer unless the issuer requires DPoP. */
  dpop?: boolean;
  /** One line per step. */
  log?: (line: string) => void;
}

export interface ReceivedCredential {
  configurationId: string;
  format: string;
  credential: string;
  decoded: DecodedSdJwt | DecodedMdoc | undefined;
}

export interface WalletResult {
  credentialIssuer: string;
  tokenType: string;
  holderKeyThumbprint: string;
  credentials: ReceivedCredential[];
}

/** A refusal by the issuer: the step, the HTTP status and the error body, as the issuer said it. */
export class WalletError extends Error {}

const SD_JWT_FORMATS = ['dc+sd-jwt', 'vc+sd-jwt'];

/** `/.well-known/<name>` for an identifier with or without a path (OID4VCI 1.0 §12.2.2, RFC 8414 §3.1). */
export function wellKnownUrl(identifier: string, name: string): string {
  const url = new URL(identifier);
  return `${url.origin}/.well-known/${name}${url.pathname.replace(/\/$/, '')}`;
}

/** The Credential Offer of an offer URI (OID4VCI 1.0 §4.1): by value, or by reference (fetched). */
export async function resolveOffer(uri: string): Promise<Json> {
  let params: URLSearchParams;
  try {
    params = new URL(uri.trim()).searchParams;
  } catch {
    throw new WalletError('Not an offer URI: expected openid-credential-offer://?credential_offer=… or …?credential_offer_uri=…');
  }
  const byValue = params.get('credential_offer');
  if (byValue) return JSON.parse(byValue);
  const reference = params.get('credential_offer_uri');
  if (!reference) throw new WalletError('The URI has neither credential_offer nor credential_offer_uri');
  return getJson(reference, 'fetching the offer by reference');
}

async function failure(step: string, response: Response): Promise<WalletError> {
  const text = await response.text();
  let detail = text.slice(0, 500);
  try {
    const body = JSON.parse(text);
    if (body.error) detail = `${body.error}: ${body.error_description ?? ''}`.trim();
    else if (body.code) detail = `${body.code}: ${body.message ?? ''}`;
  } catch {
    // not JSON: shown as sent
  }
  return new WalletError(`${step} failed: HTTP ${response.status} ${detail}`);
}

async function getJson(url: string, step: string): Promise<Json> {
  const response = await fetch(url, { headers: { accept: 'application/json' } });
  if (!response.ok) throw await failure(step, response);
  return (await response.json()) as Json;
}

interface Holder {
  privateKey: CryptoKey;
  jwk: JWK;
}

/** Redeems the offer, and requests, receives and decodes every credential it offers. */
export async function receiveOffer(offerUri: string, options: WalletOptions = {}): Promise<WalletResult> {
  const log = options.log ?? (() => {});
  const offer = await resolveOffer(offerUri);
  const issuer = String(offer.credential_issuer);
  const ids: string[] = offer.credential_configuration_ids ?? [];
  log(`Offer from ${issuer}: ${ids.join(', ')}`);

  const metadata = await getJson(wellKnownUrl(issuer, WELL_KNOWN.credentialIssuer), 'reading the Credential Issuer metadata');
  const authorizationServer = metadata.authorization_servers?.[0] ?? issuer;
  const asMetadata = await getJson(wellKnownUrl(authorizationServer, WELL_KNOWN.authorizationServer), 'reading the authorization server metadata');
  const grant = offer.grants?.[PRE_AUTHORIZED_GRANT];
  if (!grant) throw new WalletError('The offer has no pre-authorized code grant');

  const { privateKey, publicKey } = await generateKeyPair('ES256', { extractable: true });
  const holder: Holder = { privateKey, jwk: await exportJWK(publicKey) };
  const holderKeyThumbprint = await calculateJwkThumbprint(holder.jwk);
  log(`Holder key (fresh, P-256): ${holderKeyThumbprint}`);

  let txCode = options.txCode;
  if (grant.tx_code && txCode === undefined) {
    if (!options.askTxCode) throw new WalletError('This offer needs a transaction code: pass --tx-code');
    txCode = await options.askTxCode(grant.tx_code);
  }
  const useDpop = options.dpop !== false && (asMetadata.dpop_signing_alg_values_supported ?? []).includes('ES256');
  const http = new DpopClient(useDpop ? holder : undefined);

  const tokenResponse = await http.post(asMetadata.token_endpoint, {
    form: { grant_type: PRE_AUTHORIZED_GRANT, 'pre-authorized_code': grant['pre-authorized_code'], ...(txCode !== undefined && { tx_code: txCode }) },
  });
  if (!tokenResponse.ok) throw await failure('redeeming the pre-authorized code', tokenResponse);
  const token = (await tokenResponse.json()) as Json;
  log(`Redeemed the pre-authorized code: a ${token.token_type} access token for ${token.expires_in} s`);
  const access = { token: String(token.access_token), type: String(token.token_type) };
  let draft13Nonce: string | undefined = token.c_nonce;

  const credentials: ReceivedCredential[] = [];
  for (const configurationId of ids) {
    const configuration = metadata.credential_configurations_supported?.[configurationId] ?? {};
    const format = String(configuration.format ?? 'unknown');
    let nonce = draft13Nonce;
    if (metadata.nonce_endpoint) {
      const nonceResponse = await http.post(metadata.nonce_endpoint, {});
      if (!nonceResponse.ok) throw await failure('fetching a nonce', nonceResponse);
      nonce = ((await nonceResponse.json()) as Json).c_nonce;
    }
    draft13Nonce = undefined;
    const proof = await new SignJWT({ aud: issuer, ...(nonce && { nonce }) })
      .setProtectedHeader({ typ: PROOF_TYP, alg: 'ES256', jwk: holder.jwk })
      .setIssuedAt()
      .sign(holder.privateKey);
    const response = await http.post(metadata.credential_endpoint, { json: { credential_configuration_id: configurationId, proofs: { jwt: [proof] } }, access });
    if (!response.ok) throw await failure(`requesting ${configurationId}`, response);
    const body = (await response.json()) as Json;
    for (const { credential } of body.credentials ?? [{ credential: body.credential }]) {
      const decoded = SD_JWT_FORMATS.includes(format) ? await decodeSdJwt(credential) : format === 'mso_mdoc' ? decodeMdoc(credential) : undefined;
      credentials.push({ configurationId, format, credential, decoded });
    }
    log(`Received ${configurationId} (${format})`);
    if (body.notification_id && metadata.notification_endpoint) {
      const notified = await http.post(metadata.notification_endpoint, { json: { notification_id: body.notification_id, event: 'credential_accepted' }, access });
      if (!notified.ok) throw await failure('notifying the issuer', notified);
    }
  }
  return { credentialIssuer: issuer, tokenType: access.type, holderKeyThumbprint, credentials };
}

/**
 * POSTs with a DPoP proof when given a key (RFC 9449): the proof names the method and URL, carries
 * the server's latest DPoP-Nonce and, with an access token, its hash (`ath`). A request refused
 * with use_dpop_nonce is sent once more with the nonce the refusal carried (§8).
 */
class DpopClient {
  #nonce: string | undefined;

  constructor(readonly key: Holder | undefined) {}

  async post(url: string, request: { form?: Record<string, string>; json?: unknown; access?: { token: string; type: string } }): Promise<Response> {
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = {};
      if (request.form) headers['content-type'] = 'application/x-www-form-urlencoded';
      if (request.json) headers['content-type'] = 'application/json';
      if (request.access) headers.authorization = `${request.access.type} ${request.access.token}`;
      // A proof goes to the token endpoint (the one form request), and with a DPoP-bound token; the nonce endpoint needs none.
      if (this.key && (request.form || request.access?.type === 'DPoP')) headers.dpop = await this.#proof(url, request.access?.token);
      const response = await fetch(url, {
        method: 'POST',
        headers,
        body: request.form ? new URLSearchParams(request.form).toString() : request.json ? JSON.stringify(request.json) : undefined,
      });
      const nonce = response.headers.get('dpop-nonce');
      if (nonce) this.#nonce = nonce;
      if (attempt === 0 && nonce && this.key && (await asksForNonce(response))) continue;
      return response;
    }
  }

  async #proof(url: string, accessToken?: string): Promise<string> {
    const ath = accessToken && createHash('sha256').update(accessToken).digest('base64url');
    return new SignJWT({ htm: 'POST', htu: url, jti: randomUUID(), ...(this.#nonce && { nonce: this.#nonce }), ...(ath && { ath }) })
      .setProtectedHeader({ typ: 'dpop+jwt', alg: 'ES256', jwk: this.key!.jwk })
      .setIssuedAt()
      .sign(this.key!.privateKey);
  }
}

async function asksForNonce(response: Response): Promise<boolean> {
  if (/use_dpop_nonce/.test(response.headers.get('www-authenticate') ?? '')) return true;
  if (response.status !== 400) return false;
  const body = (await response.clone().json().catch(() => ({}))) as Json;
  return body.error === 'use_dpop_nonce';
}
