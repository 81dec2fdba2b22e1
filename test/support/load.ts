import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import { CONFIGURATIONS, OFFERS, credentialRequest, preAuthorizedCodeOf, type HttpResponse } from './client.js';
import { PROCESS_PUBLIC_URL, type IssuerProcess } from './processes.js';
import { proofJwt, type HolderKey } from './wallet.js';

// Wallet flows and management calls over real HTTP against issuer processes, with every response
// (or its absence) written to a journal, for tests that break things while the load runs.

export type Step = 'offer' | 'token' | 'nonce' | 'credential' | 'ready' | 'configuration';
/** Steps answered in the management error shape; the others are wallet-facing (OAuth shape). */
export const MANAGEMENT_STEPS: readonly Step[] = ['offer', 'ready', 'configuration'];

export interface Outcome {
  step: Step;
  /** Which instance was asked. */
  instance: string;
  /** 0 when no HTTP response arrived. */
  status: number;
  failure?: 'network' | 'timeout';
  body: unknown;
  retryAfter: string | null;
  startedAt: number;
  endedAt: number;
}

export interface AckedOffer {
  id: string;
  code: string;
  txCode?: string;
}

export interface Target {
  name: string;
  process: IssuerProcess;
}

/** Everything the clients saw. "Acknowledged" means the client received the success response. */
export class Journal {
  readonly outcomes: Outcome[] = [];
  readonly offers: AckedOffer[] = [];
  readonly tokens: { offerId: string; token: string }[] = [];
  readonly credentials: { offerId: string; token: string; credential: string }[] = [];
  /** Redemptions that got no answer or a 5xx: the client cannot know whether the code was consumed. */
  readonly uncertainRedemptions: AckedOffer[] = [];

  /** Waits for a request's answer (or its absence) and writes it down. */
  async record(step: Step, target: Target, sending: Promise<HttpResponse>): Promise<Outcome> {
    const response = await sending;
    let body: unknown = response.body;
    try {
      body = JSON.parse(response.body);
    } catch {
      // not JSON: kept as text
    }
    const retryAfter = response.headers['retry-after'];
    const outcome: Outcome = {
      step,
      instance: target.name,
      status: response.statusCode,
      ...(response.failure && { failure: response.failure }),
      body,
      retryAfter: retryAfter === undefined ? null : String(retryAfter),
      startedAt: response.startedAt!,
      endedAt: response.endedAt!,
    };
    this.outcomes.push(outcome);
    return outcome;
  }

  between(from: number, to: number): Outcome[] {
    return this.outcomes.filter((o) => o.startedAt >= from && o.startedAt < to);
  }

  /** A short summary for assertion messages. */
  summary(outcomes: Outcome[] = this.outcomes): string {
    const counts = new Map<string, number>();
    for (const o of outcomes) {
      const key = `${o.instance} ${o.step} ${o.status || o.failure}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return [...counts].map(([key, count]) => `${key}: ${count}`).join(', ');
  }
}

export const sha256 = (text: string) => createHash('sha256').update(text).digest('base64url');
/** The clock of every outcome's startedAt and endedAt. */
export const now = () => performance.now();

/** Runs `task` in `workers` parallel loops until `until()` is true (checked before each iteration). */
export async function runLoad(workers: number, until: () => boolean, task: (worker: number, iteration: number) => Promise<unknown>): Promise<void> {
  await Promise.all(
    Array.from({ length: workers }, async (_, worker) => {
      for (let iteration = 0; !until(); iteration++) await task(worker, iteration);
    }),
  );
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits at least `minMs`, then until `enough()` holds or `maxMs` passed: phases of a fault test end
 * on progress made rather than on a fixed time, so a machine slowed by other tests still gets there.
 */
export async function phase(enough: () => boolean, { minMs, maxMs }: { minMs: number; maxMs: number }): Promise<void> {
  const started = now();
  await sleep(minMs);
  while (!enough() && now() - started < maxMs) await sleep(50);
}

/** A wallet and an issuer back-end (as the processes' ADMIN_API_KEY), both speaking real HTTP to issuer processes. */
export class FlowClient {
  constructor(
    readonly journal: Journal,
    readonly configurationId: string,
    readonly holder: HolderKey,
  ) {}

  async createOffer(target: Target, options: { txCode?: boolean } = {}): Promise<AckedOffer | undefined> {
    const body = { credentials: [this.configurationId], claims: { name: 'Ada' }, ...(options.txCode && { transactionCodeConfiguration: {} }) };
    const outcome = await this.journal.record('offer', target, target.process.client.post(OFFERS, body));
    if (outcome.status !== 201) return undefined;
    const created = outcome.body as { id: string; uri: string; transactionCode?: number };
    const offer: AckedOffer = {
      id: created.id,
      code: preAuthorizedCodeOf(created.uri),
      ...(created.transactionCode !== undefined && { txCode: String(created.transactionCode) }),
    };
    this.journal.offers.push(offer);
    return offer;
  }

  async redeem(target: Target, offer: AckedOffer, txCode = offer.txCode): Promise<Outcome & { token?: string }> {
    const outcome = await this.journal.record('token', target, target.process.client.requestToken({ 'pre-authorized_code': offer.code, tx_code: txCode }));
    if (outcome.status === 0 || outcome.status >= 500) this.journal.uncertainRedemptions.push(offer);
    if (outcome.status !== 200) return outcome;
    const token = (outcome.body as { access_token: string }).access_token;
    this.journal.tokens.push({ offerId: offer.id, token });
    return { ...outcome, token };
  }

  async nonce(target: Target): Promise<string | undefined> {
    const outcome = await this.journal.record('nonce', target, target.process.client.requestNonce());
    return outcome.status === 200 ? (outcome.body as { c_nonce: string }).c_nonce : undefined;
  }

  async credential(target: Target, offerId: string, token: string, nonce: string): Promise<Outcome & { credential?: string }> {
    const jwt = await proofJwt(this.holder, { aud: PROCESS_PUBLIC_URL, nonce });
    const outcome = await this.journal.record('credential', target, target.process.client.requestCredential(token, credentialRequest(this.configurationId, [jwt])));
    if (outcome.status !== 200) return outcome;
    const credential = (outcome.body as { credentials: { credential: string }[] }).credentials[0]!.credential;
    this.journal.credentials.push({ offerId, token, credential });
    return { ...outcome, credential };
  }

  /** Offer → token → nonce → credential, the steps spread over `targets` in turn; stops at the first failure. */
  async fullFlow(targets: Target[], options: { txCode?: boolean } = {}): Promise<boolean> {
    const at = (index: number) => targets[index % targets.length]!;
    const offer = await this.createOffer(at(0), options);
    if (!offer) return false;
    const { token } = await this.redeem(at(1), offer);
    if (!token) return false;
    const nonce = await this.nonce(at(2));
    if (!nonce) return false;
    return Boolean((await this.credential(at(3), offer.id, token, nonce)).credential);
  }
}

/** Creates a credential configuration through the management API; returns its id. */
export async function createConfiguration(journal: Journal, target: Target): Promise<string> {
  const body = { type: 'https://credentials.example.com/fault', claimMappings: { name: { mapFrom: 'claims.name', required: true } } };
  const outcome = await journal.record('configuration', target, target.process.client.post(CONFIGURATIONS, body));
  expect(outcome.status, `${JSON.stringify(outcome.body)}\n${target.process.output().slice(-5000)}`).toBe(201);
  return (outcome.body as { id: string }).id;
}

/** A 503 in the documented shape of its route, with Retry-After. */
export function expectUnavailable(outcome: Outcome) {
  const label = `${outcome.instance} ${outcome.step}: ${outcome.status} ${JSON.stringify(outcome.body)}`;
  expect(outcome.status, label).toBe(503);
  expect(outcome.retryAfter, label).toMatch(/^\d+$/);
  if (MANAGEMENT_STEPS.includes(outcome.step)) expect(outcome.body, label).toEqual({ code: 'ServiceUnavailable', message: expect.any(String) });
  else expect(outcome.body, label).toEqual({ error: 'temporarily_unavailable', error_description: expect.any(String) });
}

/** SQL checks shared by the fault tests: what must hold in the database whatever happened to the processes. */
export const INVARIANTS: Record<string, string> = {
  'a redeemed offer has exactly one access token': `
    SELECT o.id FROM offers o WHERE o.status = 'redeemed' AND (SELECT count(*) FROM access_tokens t WHERE t.offer_id = o.id) <> 1`,
  'an access token exists only for a consumed (redeemed) code': `
    SELECT t.id FROM access_tokens t JOIN offers o ON o.id = t.offer_id WHERE o.status <> 'redeemed'`,
  'no access token without its offer': `
    SELECT t.id FROM access_tokens t WHERE NOT EXISTS (SELECT 1 FROM offers o WHERE o.id = t.offer_id)`,
  'a configuration marked issued on a token has its credential_issuances rows, and no row exists without that mark': `
    SELECT t.id FROM access_tokens t
    WHERE cardinality(t.issued_configuration_ids) <> (SELECT count(DISTINCT c.configuration_id) FROM credential_issuances c WHERE c.access_token_id = t.id)
       OR EXISTS (SELECT 1 FROM credential_issuances c WHERE c.access_token_id = t.id AND NOT (c.configuration_id = ANY (t.issued_configuration_ids)))`,
  'no credential_issuances row without its access token': `
    SELECT c.id FROM credential_issuances c WHERE NOT EXISTS (SELECT 1 FROM access_tokens t WHERE t.id = c.access_token_id)`,
  'every issuance has exactly one SUCCESS event': `
    SELECT t.id FROM access_tokens t
    WHERE cardinality(t.issued_configuration_ids) <> (SELECT count(*) FROM events e WHERE e.type = 'OPENID_CREDENTIAL_ISSUE_SUCCESS' AND e.data->>'accessTokenId' = t.id::text)`,
  'one c_nonce consumed per issuance (nonce and issuance commit together)': `
    SELECT 1 WHERE (SELECT count(*) FROM used_nonces) <> (SELECT count(*) FROM events WHERE type = 'OPENID_CREDENTIAL_ISSUE_SUCCESS')`,
  'every redemption has exactly one TOKEN SUCCESS event': `
    SELECT o.id FROM offers o
    WHERE (o.status = 'redeemed') <> EXISTS (SELECT 1 FROM events e WHERE e.type = 'OPENID_TOKEN_CREATE_SUCCESS' AND e.data->>'offerId' = o.id::text)
       OR (SELECT count(*) FROM events e WHERE e.type = 'OPENID_TOKEN_CREATE_SUCCESS' AND e.data->>'offerId' = o.id::text) > 1`,
  'every offer has its user and exactly one CREATE SUCCESS event': `
    SELECT o.id FROM offers o
    WHERE NOT EXISTS (SELECT 1 FROM users u WHERE u.id = o.user_id)
       OR (SELECT count(*) FROM events e WHERE e.type = 'OPENID_PRE_AUTHORIZED_OFFER_CREATE_SUCCESS' AND e.data->>'offerId' = o.id::text) <> 1`,
  'the attempt limit is never exceeded': `
    SELECT o.id FROM offers o WHERE o.failed_attempts > 3 OR (o.status = 'locked') <> (o.failed_attempts >= 3 AND o.status <> 'revoked' AND o.redeemed_at IS NULL)`,
};

/** Runs every invariant; returns the violations (empty when all hold). */
export async function violatedInvariants(query: (sql: string) => Promise<{ rows: unknown[] }>): Promise<Record<string, unknown[]>> {
  const violations: Record<string, unknown[]> = {};
  for (const [name, sql] of Object.entries(INVARIANTS)) {
    const { rows } = await query(sql);
    if (rows.length) violations[name] = rows;
  }
  return violations;
}
