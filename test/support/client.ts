import { Pool } from 'undici';
import type { Role } from '../../src/auth/roles.js';
import type { App } from '../../src/context.js';
import type { CreatedOffer as OfferResponse } from '../../src/offers/use-cases.js';
import { PRE_AUTHORIZED_GRANT, WALLET_PATHS, WELL_KNOWN } from '../../src/protocol.js';

// The one client of the issuer for the tests and the benchmark: the management API (as an issuer
// back-end calls it) and the wallet-facing endpoints (as a wallet does), over any transport —
// in-process (`app.inject`, the whole Fastify stack without a socket) or real HTTP (an undici Pool,
// for services running as processes and for the benchmark). It asserts nothing with vitest, so the
// benchmark can use it too; the helpers that expect success throw with the response in the message.

/** Management API routes (MATTR VII paths). */
export const API_KEYS = '/v1/api-keys';
export const CONFIGURATIONS = '/v2/credentials/sd-jwt/configurations';
export const USERS = '/v1/users';
export const OFFERS = '/v1/openid/offers/pre-authorized';
export const EVENTS = '/v1/analytics/events';
export const ISSUER_KEYS = '/v1/issuer/keys';
export const MDOC_CONFIGURATIONS = '/v2/credentials/mobile/configurations';
export const IACAS = '/v2/credentials/mobile/iacas';
export const DOCUMENT_SIGNERS = '/v2/credentials/mobile/document-signers';

/** A managed IACA as most tests make one: the US, California. */
export const TEST_IACA = { country: 'US', stateOrProvinceName: 'US-CA', commonName: 'Test IACA' };

/** What every test configuration is unless told otherwise: a type, and an optional `name` claim. */
export const TEST_CONFIGURATION = { type: 'https://credentials.example.com/test', claimMappings: { name: { mapFrom: 'claims.name' } } };

export type Method = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

export interface HttpRequest {
  method: Method;
  /** Path and query. */
  path: string;
  headers?: Record<string, string>;
  body?: string;
  /** The client's address, where the transport can choose it (in-process only). */
  remoteAddress?: string;
}

export interface HttpResponse {
  /** 0 when no response arrived (see `failure`). */
  statusCode: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
  // Parsed bodies are read freely by tests, as light-my-request's json() allows.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json(): any;
  /** Over HTTP: why no response arrived. */
  failure?: 'network' | 'timeout';
  /** Over HTTP: when the request was sent and when its body had been read (performance.now()). */
  startedAt?: number;
  endedAt?: number;
}

/** Sends one request. Over HTTP it never throws: a request that got no answer is a response with statusCode 0. */
export type Transport = (request: HttpRequest) => Promise<HttpResponse>;

/** In-process: Fastify's whole stack (routing, hooks, parsing, validation, serialisation), no socket. */
export function injectTransport(app: App): Transport {
  return (request) =>
    app.inject({ method: request.method, url: request.path, headers: request.headers, payload: request.body, remoteAddress: request.remoteAddress });
}

class TextResponse implements HttpResponse {
  constructor(
    readonly statusCode: number,
    readonly headers: Record<string, string | string[] | undefined>,
    readonly body: string,
    readonly startedAt: number,
    readonly endedAt: number,
    readonly failure?: 'network' | 'timeout',
  ) {}

  json() {
    return JSON.parse(this.body);
  }
}

const isTimeout = (error: unknown) => ['TimeoutError', 'AbortError'].includes((error as Error).name);

/**
 * Real HTTP through an undici Pool. Per request it does what a load generator must and no more: one
 * request, one read of the body, one response object. `timeoutMs` gives each request a deadline.
 */
export function httpTransport(pool: Pool, options: { timeoutMs?: number } = {}): Transport {
  const { timeoutMs } = options;
  return async (request) => {
    const startedAt = performance.now();
    try {
      const response = await pool.request(timeoutMs === undefined ? request : { ...request, signal: AbortSignal.timeout(timeoutMs) });
      const body = await response.body.text();
      return new TextResponse(response.statusCode, response.headers, body, startedAt, performance.now());
    } catch (error) {
      return new TextResponse(0, {}, String((error as Error).cause ?? error), startedAt, performance.now(), isTimeout(error) ? 'timeout' : 'network');
    }
  };
}

/** Throws unless `response` has `status`, naming the request and quoting the response. */
export function ensureStatus(response: HttpResponse, status: number, request: string): HttpResponse {
  if (response.statusCode !== status) throw new Error(`${request}: expected ${status}, got ${response.statusCode} ${response.body.slice(0, 2000)}`);
  return response;
}

/** The form of a token request: the pre-authorized grant unless `fields` name a grant_type; undefined fields are left out. */
export function tokenForm(fields: Record<string, string | undefined>): string {
  const form = new URLSearchParams();
  if (!Object.hasOwn(fields, 'grant_type')) form.append('grant_type', PRE_AUTHORIZED_GRANT);
  for (const name in fields) {
    const value = fields[name];
    if (value !== undefined) form.append(name, value);
  }
  return form.toString();
}

/** An OID4VCI 1.0 credential request: one credential per proof. */
export const credentialRequest = (configurationId: string, jwts: string[]) => ({ credential_configuration_id: configurationId, proofs: { jwt: jwts } });

/** A draft 13 credential request: format and vct, one proof. */
export const draft13CredentialRequest = (vct: string, jwt: string, format = 'vc+sd-jwt') => ({ format, vct, proof: { proof_type: 'jwt', jwt } });

/** A draft 13 request for an mDoc: format mso_mdoc and the doctype, one proof. */
export const draft13MdocRequest = (doctype: string, jwt: string) => ({ format: 'mso_mdoc', doctype, proof: { proof_type: 'jwt', jwt } });

export interface CredentialOffer {
  credential_issuer: string;
  credential_configuration_ids: string[];
  credentials: string[];
  grants: Record<string, { 'pre-authorized_code': string; tx_code?: { length: number; input_mode: string; description?: string } }>;
}

/** The credential offer an offer URI carries by value (OID4VCI 1.0 §4.1.2), on the custom scheme or a wallet's own link. */
export function decodeOfferUri(uri: string): CredentialOffer {
  const offer = /[?&]credential_offer=([^&]+)/.exec(uri)?.[1];
  if (!offer) throw new Error(`not a credential offer URI by value: ${uri.slice(0, 100)}`);
  return JSON.parse(decodeURIComponent(offer)) as CredentialOffer;
}

export function preAuthorizedCodeOf(uri: string): string {
  return decodeOfferUri(uri).grants[PRE_AUTHORIZED_GRANT]!['pre-authorized_code'];
}

/** An offer as POST /v1/openid/offers/pre-authorized answers it, with the pre-authorized code its URI carries. */
export type CreatedOffer = OfferResponse & { code: string };

/** What a wallet holds once it redeemed an offer. */
export interface WalletSession {
  offer: CreatedOffer;
  token: string;
  /** The draft 13 c_nonce of the token response. */
  cNonce: string;
}

/** Bearer `credential` (none when null or undefined), a JSON content type when there is a body, then `more`. */
function requestHeaders(credential: string | null | undefined, json: boolean, more?: Record<string, string>): Record<string, string> {
  const headers: Record<string, string> = {};
  if (credential !== undefined && credential !== null) headers.authorization = `Bearer ${credential}`;
  if (json) headers['content-type'] = 'application/json';
  return more ? Object.assign(headers, more) : headers;
}

const FORM_HEADERS = { 'content-type': 'application/x-www-form-urlencoded' };
const NONCE_REQUEST: HttpRequest = { method: 'POST', path: WALLET_PATHS.nonce };

export class IssuerClient {
  /** The default key's headers, made once: the benchmark sends them with every offer. */
  readonly #keyHeaders: { bare: Record<string, string>; json: Record<string, string> } | undefined;

  /**
   * `key`: the API key (or ADMIN_API_KEY) management calls carry unless told otherwise. `close`:
   * what ends the transport (a Pool), when this client owns one.
   */
  constructor(
    readonly send: Transport,
    readonly key?: string,
    private readonly onClose: () => Promise<void> = async () => {},
  ) {
    this.#keyHeaders = key === undefined ? undefined : { bare: { authorization: `Bearer ${key}` }, json: { authorization: `Bearer ${key}`, 'content-type': 'application/json' } };
  }

  /** The same transport (closed by either client's close()), calling the management API with another key. */
  as(key: string): IssuerClient {
    return new IssuerClient(this.send, key, this.onClose);
  }

  close(): Promise<void> {
    return this.onClose();
  }

  // --- any route, whatever the answer (for tests of errors) ---

  /**
   * A request with a JSON body (a string is sent as it is, as JSON), as `key` (null: no Authorization
   * header; undefined: the client's key), with more `headers`.
   */
  call(method: Method, path: string, payload?: unknown, key: string | null | undefined = this.key, headers?: Record<string, string>): Promise<HttpResponse> {
    const json = payload !== undefined;
    const body = !json ? undefined : typeof payload === 'string' ? payload : JSON.stringify(payload);
    if (key === this.key && !headers && this.#keyHeaders) return this.send({ method, path, headers: json ? this.#keyHeaders.json : this.#keyHeaders.bare, body });
    return this.send({ method, path, headers: requestHeaders(key, json, headers), body });
  }

  get(path: string, key?: string | null) {
    return this.call('GET', path, undefined, key);
  }

  post(path: string, payload?: unknown, key?: string | null, headers?: Record<string, string>) {
    return this.call('POST', path, payload, key, headers);
  }

  put(path: string, payload: unknown, key?: string | null) {
    return this.call('PUT', path, payload, key);
  }

  del(path: string, key?: string | null) {
    return this.call('DELETE', path, undefined, key);
  }

  // --- management: each expects success and returns the body ---

  async #expect<T>(status: number, method: Method, path: string, payload?: unknown, key?: string): Promise<T> {
    return ensureStatus(await this.call(method, path, payload, key), status, `${method} ${path}`).json() as T;
  }

  createKey(role: Role, name = `${role} key`) {
    return this.#expect<{ id: string; name: string; key: string; role: Role }>(201, 'POST', API_KEYS, { name, role });
  }

  /** A configuration of TEST_CONFIGURATION, with `body`'s fields instead. */
  createConfiguration(body: Record<string, unknown> = {}) {
    return this.#expect<{ id: string; type: string; claimMappings: Record<string, unknown>; [field: string]: unknown }>(201, 'POST', CONFIGURATIONS, { ...TEST_CONFIGURATION, ...body });
  }

  /** An mso_mdoc configuration (MATTR VII's /v2/credentials/mobile/configurations). */
  createMdocConfiguration(body: Record<string, unknown>) {
    return this.#expect<{ id: string; type: string; claimMappings: Record<string, unknown>; [field: string]: unknown }>(201, 'POST', MDOC_CONFIGURATIONS, body);
  }

  createIaca(body: Record<string, unknown> = TEST_IACA) {
    return this.#expect<{
      id: string;
      active: boolean;
      isManaged: boolean;
      certificatePem: string;
      certificateData: { notBefore: string; notAfter: string; country: string; stateOrProvinceName?: string; commonName?: string; serialNumber: string };
      certificateFingerprint: string;
    }>(
      201,
      'POST',
      IACAS,
      body,
    );
  }

  /** An IACA created and activated: what mDoc issuance needs. */
  async activeIaca(body: Record<string, unknown> = TEST_IACA) {
    const { id } = await this.createIaca(body);
    return this.#expect<Awaited<ReturnType<IssuerClient['createIaca']>>>(200, 'PUT', `${IACAS}/${id}`, { active: true });
  }

  createUser(claims: Record<string, unknown> = {}) {
    return this.#expect<{ id: string; claims: Record<string, unknown> }>(201, 'POST', USERS, { claims });
  }

  /** Creates an offer; its code is read from the URI, or fetched as a wallet would for an offer by reference. */
  async createOffer(body: Record<string, unknown>, key?: string): Promise<CreatedOffer> {
    const offer = await this.#expect<OfferResponse>(201, 'POST', OFFERS, body, key);
    const reference = /[?&]credential_offer_uri=([^&]+)/.exec(offer.uri)?.[1];
    if (!reference) return { ...offer, code: preAuthorizedCodeOf(offer.uri) };
    const fetched = ensureStatus(await this.get(new URL(decodeURIComponent(reference)).pathname, null), 200, 'GET the offer by reference').json() as CredentialOffer;
    return { ...offer, code: fetched.grants[PRE_AUTHORIZED_GRANT]!['pre-authorized_code'] };
  }

  // --- the wallet-facing endpoints ---

  /** POST to the token endpoint: `fields` as a form (see tokenForm), or a form body as it is. */
  requestToken(fields: Record<string, string | undefined> | string, options?: { remoteAddress?: string; headers?: Record<string, string> }): Promise<HttpResponse> {
    const { headers, ...rest } = options ?? {};
    return this.send({ method: 'POST', path: WALLET_PATHS.token, headers: { ...FORM_HEADERS, ...headers }, body: typeof fields === 'string' ? fields : tokenForm(fields), ...rest });
  }

  /** Redeems an offer's code (with its transaction code, unless another is given); expects a token. */
  async redeem(offer: { code: string; transactionCode?: number | string }, txCode = offer.transactionCode === undefined ? undefined : String(offer.transactionCode)) {
    const body = ensureStatus(await this.requestToken({ 'pre-authorized_code': offer.code, tx_code: txCode }), 200, `POST ${WALLET_PATHS.token}`).json();
    return { token: body.access_token as string, cNonce: body.c_nonce as string };
  }

  /** An offer made by the management API (as the client's key) and redeemed by a wallet. */
  async startSession(offer: Record<string, unknown>): Promise<WalletSession> {
    const created = await this.createOffer(offer);
    return { offer: created, ...(await this.redeem(created)) };
  }

  requestNonce(options?: { remoteAddress?: string }): Promise<HttpResponse> {
    return this.send(options ? { ...NONCE_REQUEST, ...options } : NONCE_REQUEST);
  }

  /** A fresh c_nonce from the nonce endpoint. */
  async nonce(): Promise<string> {
    return ensureStatus(await this.requestNonce(), 200, `POST ${WALLET_PATHS.nonce}`).json().c_nonce;
  }

  /** POST to the credential endpoint with `token` as Bearer (none when undefined); a string body is sent as it is. */
  requestCredential(token: string | undefined, body?: unknown, headers?: Record<string, string>): Promise<HttpResponse> {
    return this.call('POST', WALLET_PATHS.credential, body, token ?? null, headers);
  }

  /** POST to the notification endpoint with `token` as Bearer (none when undefined); a string body is sent as it is. */
  notify(token: string | undefined, body?: unknown, headers?: Record<string, string>): Promise<HttpResponse> {
    return this.call('POST', WALLET_PATHS.notification, body, token ?? null, headers);
  }

  /** A `/.well-known/` document of the issuer. */
  async metadata(name: keyof typeof WELL_KNOWN) {
    return ensureStatus(await this.get(`/.well-known/${WELL_KNOWN[name]}`, null), 200, `GET /.well-known/${WELL_KNOWN[name]}`).json();
  }
}

/** A client over real HTTP to `url`, with a connection pool of its own that `close()` ends. */
export function httpClient(url: string, options: { key?: string; connections?: number; timeoutMs?: number } = {}): IssuerClient {
  const pool = new Pool(url, { connections: options.connections ?? 64, pipelining: 1 });
  return new IssuerClient(httpTransport(pool, options), options.key, () => pool.close());
}
