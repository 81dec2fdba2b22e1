import { createHash, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { storedSecret } from '../src/crypto/stored-secrets.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';
import { PRE_AUTHORIZED_GRANT } from '../src/protocol.js';
import { EVENTS, OFFERS, USERS, decodeOfferUri, preAuthorizedCodeOf, type HttpResponse as Response, type IssuerClient } from './support/client.js';
import { expectBadRequest, params } from './support/expectations.js';

const PUBLIC_URL = 'https://issuer.example.com/tenants/a';

let issuer: TestIssuer;
let api: IssuerClient;
let plain: string; // a configuration without required claims
let identity: string; // requires claims.givenName and claims.familyName
beforeAll(async () => {
  issuer = await startTestIssuer({ publicUrl: PUBLIC_URL });
  api = issuer.client;
  plain = (await api.createConfiguration({ claimMappings: { note: { mapFrom: 'claims.note' } } })).id;
  identity = (
    await api.createConfiguration({
      type: 'https://credentials.example.com/identity',
      claimMappings: {
        given_name: { mapFrom: 'claims.givenName', required: true },
        family_name: { mapFrom: 'claims.familyName', required: true },
        nickname: { mapFrom: 'claims.nickname' },
        sub: { mapFrom: 'user.id', required: true },
      },
    })
  ).id;
});
afterAll(() => issuer.close());

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** POSTs an offer that must fail with 400 naming `expected`, and checks that no user and no offer was written. */
async function rejects(body: unknown, expected: string[]) {
  const before = await issuer.tables.counts();
  const response = await api.post(OFFERS, body);
  const error = expectBadRequest(response, expected);
  expect(await issuer.tables.counts()).toEqual(before);
  return error;
}

async function offerRow(id: string) {
  const { rows } = await issuer.database.pool.query('SELECT * FROM offers WHERE id = $1', [id]);
  expect(rows).toHaveLength(1);
  return rows[0] as { user_id: string; configuration_ids: string[]; claims: Record<string, unknown>; status: string; expires_at: Date; code_hash: Buffer; tx_code_hash: Buffer | null; failed_attempts: number };
}

const getUser = async (id: string) => {
  const response = await api.get(`${USERS}/${id}`);
  expect(response.statusCode, response.body).toBe(200);
  return response.json() as { id: string; claims: Record<string, unknown> };
};

describe('POST /v1/openid/offers/pre-authorized: response and offer URI', () => {
  it('lists the ids as draft 11\'s `credentials` too when OFFER_LEGACY_CREDENTIALS is set', async () => {
    const legacy = await startTestIssuer({ databaseUrl: issuer.databaseUrl, env: { OFFER_LEGACY_CREDENTIALS: 'true' } });
    try {
      const offer = decodeOfferUri((await legacy.client.createOffer({ credentials: [plain] })).uri);
      expect(offer).toMatchObject({ credential_configuration_ids: [plain], credentials: [plain] });
    } finally {
      await legacy.close();
    }
  });

  it('returns id, userId, uri and expiresAt; the URI decodes to the OID4VCI credential offer', async () => {
    const response = await api.post(OFFERS, { credentials: [plain, identity], claims: { givenName: 'Ada', familyName: 'Lovelace' } });
    expect(response.statusCode, response.body).toBe(201);
    const body = response.json();
    expect(Object.keys(body).sort()).toEqual(['expiresAt', 'id', 'uri', 'userId']);
    expect(body.id).toMatch(UUID);
    expect(body.userId).toMatch(UUID);
    expect(new Date(body.expiresAt).toISOString()).toBe(body.expiresAt);

    const offer = decodeOfferUri(body.uri);
    // credential_configuration_ids only: some wallets refuse an offer that also has draft 11's `credentials`.
    expect(offer).toEqual({
      credential_issuer: PUBLIC_URL,
      credential_configuration_ids: [plain, identity],
      grants: { [PRE_AUTHORIZED_GRANT]: { 'pre-authorized_code': expect.any(String) } },
    });
    // 256 bits: 43 base64url characters (at least 128 are required).
    expect(preAuthorizedCodeOf(body.uri)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(body.uri).not.toMatch(/[{}"\s]/);

    const row = await offerRow(body.id);
    expect(row).toMatchObject({ user_id: body.userId, configuration_ids: [plain, identity], status: 'pending', tx_code_hash: null, failed_attempts: 0 });
    expect(row.expires_at.toISOString()).toBe(body.expiresAt);
    expect(row.code_hash.equals(storedSecret.preAuthorizedCode(issuer.secrets, preAuthorizedCodeOf(body.uri)))).toBe(true);
  });

  it('mints a fresh code for every offer', async () => {
    const codes = new Set<string>();
    for (let i = 0; i < 10; i++) codes.add(preAuthorizedCodeOf((await api.createOffer({ credentials: [plain] })).uri));
    expect(codes.size).toBe(10);
  });

  it('GET returns the offer, never its code', async () => {
    const created = await api.createOffer({ credentials: [plain], transactionCodeConfiguration: {} });
    const response = await api.get(`${OFFERS}/${created.id}`);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({
      id: created.id,
      userId: created.userId,
      credentials: [plain],
      status: 'pending',
      expiresAt: created.expiresAt,
      createdAt: expect.any(String),
      redeemedAt: null,
    });
    expect(response.body).not.toContain(preAuthorizedCodeOf(created.uri));
    expect(response.body).not.toContain(String(created.transactionCode));
  });
});

describe('credentials', () => {
  it('names each unknown configuration id by its index', async () => {
    const unknown1 = randomUUID();
    const unknown2 = randomUUID();
    const error = await rejects({ credentials: [plain, unknown1, identity, unknown2], claims: { givenName: 'a', familyName: 'b' } }, ['credentials[1]', 'credentials[3]']);
    expect(error.details.find((d) => d.param === 'credentials[1]')!.msg).toContain(unknown1);
    expect(error.details.find((d) => d.param === 'credentials[3]')!.msg).toContain(unknown2);
  });

  it('rejects a deleted configuration like an unknown one', async () => {
    const gone = (await api.createConfiguration()).id;
    expect((await api.del(`/v2/credentials/sd-jwt/configurations/${gone}`)).statusCode).toBe(204);
    await rejects({ credentials: [gone] }, ['credentials[0]']);
  });

  it('rejects duplicate ids, naming the repeat', async () => {
    await rejects({ credentials: [plain, plain] }, ['credentials[1]']);
    await rejects({ credentials: [plain, identity, plain, identity] }, ['credentials[2]', 'credentials[3]']);
  });

  it('is required, non-empty, and made of uuids', async () => {
    await rejects({}, ['credentials']);
    await rejects({ credentials: [] }, ['credentials']);
    await rejects({ credentials: plain }, ['credentials']);
    await rejects({ credentials: null }, ['credentials']);
    await rejects({ credentials: ['not-a-uuid'] }, ['credentials[0]']);
    await rejects({ credentials: [plain, 42] }, ['credentials[1]']);
    await rejects({ credentials: Array.from({ length: 51 }, () => randomUUID()) }, ['credentials']);
  });
});

describe('userId', () => {
  it('uses an existing user', async () => {
    const user = await api.createUser({ givenName: 'Grace', familyName: 'Hopper' });
    const before = await issuer.tables.count('users');
    const offer = await api.createOffer({ credentials: [identity], userId: user.id });
    expect(offer.userId).toBe(user.id);
    expect(await issuer.tables.count('users')).toBe(before);
    expect((await offerRow(offer.id)).user_id).toBe(user.id);
  });

  it('an unknown userId is a 400 naming userId, and nothing is written', async () => {
    const id = randomUUID();
    const error = await rejects({ credentials: [plain], userId: id }, ['userId']);
    expect(error.details[0]!.msg).toContain(id);
    await rejects({ credentials: [plain], userId: 'someone' }, ['userId']);
    await rejects({ credentials: [plain], userId: 5 }, ['userId']);
  });

  it('a deleted user is unknown', async () => {
    const user = await api.createUser();
    expect((await api.del(`${USERS}/${user.id}`)).statusCode).toBe(204);
    await rejects({ credentials: [plain], userId: user.id }, ['userId']);
  });

  it('without userId a new user is created', async () => {
    const before = await issuer.tables.count('users');
    const offer = await api.createOffer({ credentials: [plain], claims: { note: 'for this offer only' } });
    expect(await issuer.tables.count('users')).toBe(before + 1);
    // Offer claims are not persisted unless named in claimsToPersist.
    expect(await getUser(offer.userId)).toEqual({ id: offer.userId, claims: {} });
    const second = await api.createOffer({ credentials: [plain] });
    expect(second.userId).not.toBe(offer.userId);
  });
});

describe('claims and claimsToPersist', () => {
  it('persists the named claims on a new user, and only those', async () => {
    const offer = await api.createOffer({
      credentials: [identity],
      claims: { givenName: 'Ada', familyName: 'Lovelace', nickname: 'Enchantress', address: { city: 'London' } },
      claimsToPersist: ['givenName', 'address'],
    });
    expect(await getUser(offer.userId)).toEqual({ id: offer.userId, claims: { givenName: 'Ada', address: { city: 'London' } } });
    expect((await offerRow(offer.id)).claims).toEqual({ givenName: 'Ada', familyName: 'Lovelace', nickname: 'Enchantress', address: { city: 'London' } });
  });

  it('merges the named claims into an existing user, keeping the others', async () => {
    const user = await api.createUser({ givenName: 'Old', email: 'ada@example.com', familyName: 'Byron' });
    await api.createOffer({ credentials: [identity], userId: user.id, claims: { givenName: 'New', phone: '+44 20' }, claimsToPersist: ['givenName'] });
    expect(await getUser(user.id)).toEqual({ id: user.id, claims: { givenName: 'New', email: 'ada@example.com', familyName: 'Byron' } });
    // Persisted claims serve later offers.
    const later = await api.createOffer({ credentials: [identity], userId: user.id });
    expect((await offerRow(later.id)).claims).toEqual({ givenName: 'New', email: 'ada@example.com', familyName: 'Byron' });
  });

  it('persists claims of any JSON type, including null and falsy values', async () => {
    const offer = await api.createOffer({ credentials: [plain], claims: { zero: 0, no: false, empty: '', nothing: null, list: [1, 'a'] }, claimsToPersist: ['zero', 'no', 'empty', 'nothing', 'list'] });
    expect((await getUser(offer.userId)).claims).toEqual({ zero: 0, no: false, empty: '', nothing: null, list: [1, 'a'] });
  });

  it('offer claims win over user claims in the offer snapshot, without changing the user', async () => {
    const user = await api.createUser({ givenName: 'Stored', familyName: 'Stored', email: 'stored@example.com' });
    const offer = await api.createOffer({ credentials: [identity], userId: user.id, claims: { givenName: 'Offered', extra: 1 } });
    expect((await offerRow(offer.id)).claims).toEqual({ givenName: 'Offered', familyName: 'Stored', email: 'stored@example.com', extra: 1 });
    expect((await getUser(user.id)).claims).toEqual({ givenName: 'Stored', familyName: 'Stored', email: 'stored@example.com' });
    // The snapshot is fixed at creation: changing the user later does not change it.
    await api.put(`${USERS}/${user.id}`, { claims: { givenName: 'Changed' } });
    expect((await offerRow(offer.id)).claims.familyName).toBe('Stored');
  });

  it('claimsToPersist naming a claim not in claims is a 400 and writes nothing', async () => {
    const user = await api.createUser({ givenName: 'Keep', familyName: 'Me' });
    const error = await rejects({ credentials: [plain], claims: { a: 1 }, claimsToPersist: ['a', 'b'] }, ['claimsToPersist[1]']);
    expect(error.details[0]!.msg).toContain('b');
    await rejects({ credentials: [plain], claimsToPersist: ['a'] }, ['claimsToPersist[0]']);
    await rejects({ credentials: [plain], userId: user.id, claims: { givenName: 'Changed' }, claimsToPersist: ['givenName', 'familyName'] }, ['claimsToPersist[1]']);
    expect((await getUser(user.id)).claims).toEqual({ givenName: 'Keep', familyName: 'Me' });
    // Inherited names are not claims.
    await rejects({ credentials: [plain], claims: {}, claimsToPersist: ['toString'] }, ['claimsToPersist[0]']);
  });

  it('validates the types of claims and claimsToPersist', async () => {
    await rejects({ credentials: [plain], claims: ['a'] }, ['claims']);
    await rejects({ credentials: [plain], claims: 'a' }, ['claims']);
    await rejects({ credentials: [plain], claims: { '': 1 } }, ['claims.']);
    await rejects({ credentials: [plain], claims: { a: 1 }, claimsToPersist: 'a' }, ['claimsToPersist']);
    await rejects({ credentials: [plain], claims: { a: 1 }, claimsToPersist: [1] }, ['claimsToPersist[0]']);
    const empty = await api.post(OFFERS, { credentials: [plain], claims: { a: 1 }, claimsToPersist: [''] });
    expect(empty.statusCode).toBe(400);
    expect(new Set(params(empty))).toEqual(new Set(['claimsToPersist[0]']));
  });

  it('rejects unknown fields, naming them', async () => {
    const error = await rejects({ credentials: [plain], pin: '1234' }, ['pin']);
    expect(error.details[0]!.msg).toContain('pin');
  });
});

describe('required claim mappings', () => {
  it('lists each missing required claim, across configurations, and writes nothing', async () => {
    const contact = (await api.createConfiguration({ claimMappings: { email: { mapFrom: 'claims.email', required: true }, phone: { mapFrom: 'claims.phone' } } })).id;
    const error = await rejects({ credentials: [identity, contact] }, ['claims.email', 'claims.familyName', 'claims.givenName']);
    expect(error.message).toMatch(/claim/i);
    const messages = error.details.map((d) => d.msg).join('\n');
    for (const name of ['"given_name"', '"family_name"', '"email"']) expect(messages).toContain(name);
    expect(error.details.find((d) => d.param === 'claims.email')!.msg).toContain(contact);
    expect(error.details.find((d) => d.param === 'claims.givenName')!.msg).toContain(identity);
    // Optional mappings (nickname, phone) are never reported.
    expect(messages).not.toMatch(/nickname|phone/);
  });

  it('lists only the claims still missing', async () => {
    await rejects({ credentials: [identity], claims: { givenName: 'Ada' } }, ['claims.familyName']);
    // null counts as missing
    await rejects({ credentials: [identity], claims: { givenName: 'Ada', familyName: null } }, ['claims.familyName']);
  });

  it('resolves required claims from the user, the offer, or both', async () => {
    const user = await api.createUser({ givenName: 'Ada' });
    await rejects({ credentials: [identity], userId: user.id }, ['claims.familyName']);
    const offer = await api.createOffer({ credentials: [identity], userId: user.id, claims: { familyName: 'Lovelace' } });
    expect((await offerRow(offer.id)).claims).toEqual({ givenName: 'Ada', familyName: 'Lovelace' });
    const full = await api.createUser({ givenName: 'Grace', familyName: 'Hopper' });
    expect((await api.post(OFFERS, { credentials: [identity], userId: full.id })).statusCode).toBe(201);
    // Falsy but present values resolve.
    expect((await api.post(OFFERS, { credentials: [identity], claims: { givenName: '', familyName: 0 } })).statusCode).toBe(201);
  });

  it('resolves nested paths', async () => {
    const residence = (await api.createConfiguration({ claimMappings: { city: { mapFrom: 'claims.address.city', required: true } } })).id;
    await rejects({ credentials: [residence], claims: { address: {} } }, ['claims.address.city']);
    await rejects({ credentials: [residence], claims: { address: 'London' } }, ['claims.address.city']);
    await rejects({ credentials: [residence], claims: { 'address.city': 'London' } }, ['claims.address.city']);
    expect((await api.post(OFFERS, { credentials: [residence], claims: { address: { city: 'London' } } })).statusCode).toBe(201);
  });

  it('a defaultValue satisfies a required claim', async () => {
    const defaulted = (await api.createConfiguration({ claimMappings: { country: { mapFrom: 'claims.country', required: true, defaultValue: 'NZ' } } })).id;
    const response = await api.post(OFFERS, { credentials: [defaulted] });
    expect(response.statusCode, response.body).toBe(201);
  });

  it('user.id always resolves', async () => {
    const bound = (await api.createConfiguration({ claimMappings: { sub: { mapFrom: 'user.id', required: true } } })).id;
    expect((await api.post(OFFERS, { credentials: [bound] })).statusCode).toBe(201);
  });

  it('checks the claims after persisting them: a persisted claim satisfies the requirement', async () => {
    const offer = await api.createOffer({ credentials: [identity], claims: { givenName: 'A', familyName: 'B' }, claimsToPersist: ['familyName'] });
    expect((await getUser(offer.userId)).claims).toEqual({ familyName: 'B' });
  });
});

describe('expiresIn', () => {
  const secondsUntil = (expiresAt: string, from: number) => (Date.parse(expiresAt) - from) / 1000;

  it('defaults to 5 minutes', async () => {
    const start = Date.now();
    const offer = await api.createOffer({ credentials: [plain] });
    expect(secondsUntil(offer.expiresAt, start)).toBeGreaterThanOrEqual(299);
    expect(secondsUntil(offer.expiresAt, start)).toBeLessThanOrEqual(301);
  });

  it('accepts minutes, seconds or both, up to the 10-minute maximum', async () => {
    for (const [expiresIn, seconds] of [
      [{ minutes: 1 }, 60],
      [{ seconds: 30 }, 30],
      [{ minutes: 2, seconds: 5 }, 125],
      [{ minutes: 10 }, 600],
      [{ seconds: 600 }, 600],
      [{ minutes: 9, seconds: 60 }, 600],
    ] as const) {
      const start = Date.now();
      const offer = await api.createOffer({ credentials: [plain], expiresIn });
      expect(secondsUntil(offer.expiresAt, start), JSON.stringify(expiresIn)).toBeGreaterThanOrEqual(seconds - 1);
      expect(secondsUntil(offer.expiresAt, start), JSON.stringify(expiresIn)).toBeLessThanOrEqual(seconds + 1);
      expect((await offerRow(offer.id)).expires_at.toISOString()).toBe(offer.expiresAt);
    }
  });

  it('over the maximum is a 400 naming expiresIn', async () => {
    const error = await rejects({ credentials: [plain], expiresIn: { minutes: 10, seconds: 1 } }, ['expiresIn']);
    expect(error.details[0]!.msg).toContain('600');
    await rejects({ credentials: [plain], expiresIn: { seconds: 601 } }, ['expiresIn']);
    await rejects({ credentials: [plain], expiresIn: { minutes: 11 } }, ['expiresIn']);
    await rejects({ credentials: [plain], expiresIn: { minutes: 43_200 } }, ['expiresIn']);
  });

  it('must be a positive whole duration of minutes and seconds', async () => {
    await rejects({ credentials: [plain], expiresIn: {} }, ['expiresIn']);
    await rejects({ credentials: [plain], expiresIn: { seconds: 0 } }, ['expiresIn']);
    await rejects({ credentials: [plain], expiresIn: { minutes: 0, seconds: 0 } }, ['expiresIn']);
    await rejects({ credentials: [plain], expiresIn: { minutes: -1, seconds: 90 } }, ['expiresIn.minutes']);
    await rejects({ credentials: [plain], expiresIn: { minutes: 1.5 } }, ['expiresIn.minutes']);
    await rejects({ credentials: [plain], expiresIn: { seconds: '60' } }, ['expiresIn.seconds']);
    await rejects({ credentials: [plain], expiresIn: { hours: 1, minutes: 1 } }, ['expiresIn.hours']);
    await rejects({ credentials: [plain], expiresIn: 300 }, ['expiresIn']);
  });

  it('the maximum and the default are settings', async () => {
    const long = await startTestIssuer({ env: { OFFER_MAX_EXPIRES_IN_SECONDS: String(30 * 24 * 3600), OFFER_DEFAULT_EXPIRES_IN_SECONDS: '120' } });
    try {
      const longApi = long.client;
      const configuration = (await longApi.createConfiguration()).id;
      let start = Date.now();
      const byDefault = await longApi.createOffer({ credentials: [configuration] });
      expect(secondsUntil(byDefault.expiresAt, start)).toBeGreaterThanOrEqual(119);
      expect(secondsUntil(byDefault.expiresAt, start)).toBeLessThanOrEqual(121);
      start = Date.now();
      const month = await longApi.createOffer({ credentials: [configuration], expiresIn: { minutes: 43_200 } });
      expect(secondsUntil(month.expiresAt, start)).toBeGreaterThanOrEqual(30 * 24 * 3600 - 1);
      expect(secondsUntil(month.expiresAt, start)).toBeLessThanOrEqual(30 * 24 * 3600 + 1);
      expectBadRequest(await longApi.post(OFFERS, { credentials: [configuration], expiresIn: { minutes: 43_200, seconds: 1 } }), ['expiresIn']);
    } finally {
      await long.close();
    }
    const short = await startTestIssuer({ env: { OFFER_MAX_EXPIRES_IN_SECONDS: '60', OFFER_DEFAULT_EXPIRES_IN_SECONDS: '60' } });
    try {
      const shortApi = short.client;
      const configuration = (await shortApi.createConfiguration()).id;
      expect((await shortApi.post(OFFERS, { credentials: [configuration], expiresIn: { seconds: 60 } })).statusCode).toBe(201);
      expectBadRequest(await shortApi.post(OFFERS, { credentials: [configuration], expiresIn: { seconds: 61 } }), ['expiresIn']);
    } finally {
      await short.close();
    }
  });
});

describe('transactionCodeConfiguration', () => {
  const txCodeOf = (uri: string) => decodeOfferUri(uri).grants[PRE_AUTHORIZED_GRANT]!.tx_code;

  it('absent: no transaction code in the response, the URI or the database', async () => {
    const offer = await api.createOffer({ credentials: [plain] });
    expect(offer).not.toHaveProperty('transactionCode');
    expect(txCodeOf(offer.uri)).toBeUndefined();
    expect((await offerRow(offer.id)).tx_code_hash).toBeNull();
  });

  it('empty: a 6-digit numeric code, as a JSON number', async () => {
    const response = await api.post(OFFERS, { credentials: [plain], transactionCodeConfiguration: {} });
    expect(response.statusCode).toBe(201);
    expect(response.body).toMatch(/"transactionCode":[1-9]\d{5}[,}]/);
    const offer = response.json();
    expect(Object.keys(offer).sort()).toEqual(['expiresAt', 'id', 'transactionCode', 'uri', 'userId']);
    expect(typeof offer.transactionCode).toBe('number');
    expect(txCodeOf(offer.uri)).toEqual({ length: 6, input_mode: 'numeric' });
    const row = await offerRow(offer.id);
    expect(row.tx_code_hash).toBeInstanceOf(Buffer);
    expect(row.tx_code_hash!.length).toBeGreaterThanOrEqual(32);
  });

  it('numeric codes are JSON numbers of the configured length, never with a leading zero', async () => {
    for (let length = 4; length <= 10; length++) {
      const codes = new Set<number>();
      for (let i = 0; i < 25; i++) {
        const response = await api.post(OFFERS, { credentials: [plain], transactionCodeConfiguration: { length, inputMode: 'numeric' } });
        expect(response.statusCode).toBe(201);
        // The raw JSON holds a number literal (not a string) whose digits are the code.
        const literal = /"transactionCode":(\d+)[,}]/.exec(response.body)?.[1];
        expect(literal, response.body).toMatch(new RegExp(`^[1-9]\\d{${length - 1}}$`));
        const { transactionCode, uri } = response.json();
        expect(Number.isSafeInteger(transactionCode)).toBe(true);
        expect(String(transactionCode)).toBe(literal);
        expect(txCodeOf(uri)).toEqual({ length, input_mode: 'numeric' });
        codes.add(transactionCode);
      }
      // 25 draws from at least 9000 codes: collisions are possible, but not many.
      expect(codes.size, `length ${length}`).toBeGreaterThanOrEqual(20);
    }
  });

  it('numeric codes use every digit, and every leading digit 1–9', async () => {
    const leading = new Set<string>();
    const digits = new Set<string>();
    for (let i = 0; i < 120; i++) {
      const { transactionCode } = await api.createOffer({ credentials: [plain], transactionCodeConfiguration: { length: 10 } });
      const code = String(transactionCode);
      leading.add(code[0]!);
      for (const digit of code.slice(1)) digits.add(digit);
    }
    expect([...leading].sort().join('')).toBe('123456789');
    expect([...digits].sort().join('')).toBe('0123456789');
  });

  it('text codes are strings of the configured length', async () => {
    for (const length of [4, 6, 10]) {
      for (let i = 0; i < 10; i++) {
        const offer = await api.createOffer({ credentials: [plain], transactionCodeConfiguration: { length, inputMode: 'text', description: 'Read it out' } });
        expect(typeof offer.transactionCode).toBe('string');
        expect(offer.transactionCode).toMatch(new RegExp(`^[A-Za-z0-9]{${length}}$`));
        expect(txCodeOf(offer.uri)).toEqual({ length, input_mode: 'text', description: 'Read it out' });
      }
    }
  });

  it('passes the description to the wallet, up to 300 characters', async () => {
    const description = 'é'.repeat(300);
    const offer = await api.createOffer({ credentials: [plain], transactionCodeConfiguration: { description } });
    expect(txCodeOf(offer.uri)).toEqual({ length: 6, input_mode: 'numeric', description });
    await rejects({ credentials: [plain], transactionCodeConfiguration: { description: 'x'.repeat(301) } }, ['transactionCodeConfiguration.description']);
    await rejects({ credentials: [plain], transactionCodeConfiguration: { description: 5 } }, ['transactionCodeConfiguration.description']);
  });

  it('rejects lengths outside 4–10, wrong input modes and unknown keys', async () => {
    for (const length of [0, 3, 11, 6.5, '6', null]) {
      await rejects({ credentials: [plain], transactionCodeConfiguration: { length } }, ['transactionCodeConfiguration.length']);
    }
    for (const inputMode of ['alphanumeric', 'NUMERIC', '', 1]) {
      await rejects({ credentials: [plain], transactionCodeConfiguration: { inputMode } }, ['transactionCodeConfiguration.inputMode']);
    }
    await rejects({ credentials: [plain], transactionCodeConfiguration: { length: 6, format: 'digits' } }, ['transactionCodeConfiguration.format']);
    await rejects({ credentials: [plain], transactionCodeConfiguration: true }, ['transactionCodeConfiguration']);
    await rejects({ credentials: [plain], transactionCodeConfiguration: { length: 2, inputMode: 'binary', description: 'x'.repeat(400) } }, [
      'transactionCodeConfiguration.description',
      'transactionCodeConfiguration.inputMode',
      'transactionCodeConfiguration.length',
    ]);
  });
});

describe('listing, status and revocation', () => {
  const list = async (query: string) => {
    const response = await api.get(`${OFFERS}${query}`);
    expect(response.statusCode, response.body).toBe(200);
    return response.json() as { data: { id: string; status: string; userId: string }[]; nextCursor: string | null };
  };

  it('derives expired for a pending offer past its expiry', async () => {
    const offer = await api.createOffer({ credentials: [plain] });
    await issuer.database.pool.query(`UPDATE offers SET expires_at = now() - interval '1 second' WHERE id = $1`, [offer.id]);
    expect((await api.get(`${OFFERS}/${offer.id}`)).json().status).toBe('expired');
    expect((await offerRow(offer.id)).status).toBe('pending');
    const expired = await list(`?status=expired&limit=1000`);
    expect(expired.data.map((o) => o.id)).toContain(offer.id);
    expect(expired.data.every((o) => o.status === 'expired')).toBe(true);
    expect((await list(`?status=pending&limit=1000`)).data.map((o) => o.id)).not.toContain(offer.id);
  });

  it('DELETE revokes: 204, then status revoked; unknown ids are 404', async () => {
    const offer = await api.createOffer({ credentials: [plain] });
    const response = await api.del(`${OFFERS}/${offer.id}`);
    expect(response.statusCode).toBe(204);
    expect(response.body).toBe('');
    expect((await api.get(`${OFFERS}/${offer.id}`)).json()).toMatchObject({ id: offer.id, status: 'revoked', redeemedAt: null });
    expect((await offerRow(offer.id)).status).toBe('revoked');
    const revoked = await list('?status=revoked&limit=1000');
    expect(revoked.data.map((o) => o.id)).toContain(offer.id);
    expect(revoked.data.every((o) => o.status === 'revoked')).toBe(true);
    expect((await list('?status=pending&limit=1000')).data.map((o) => o.id)).not.toContain(offer.id);
    // Revoking twice is harmless; the status stays revoked.
    expect((await api.del(`${OFFERS}/${offer.id}`)).statusCode).toBe(204);
    expect((await offerRow(offer.id)).status).toBe('revoked');

    // An expired offer can be revoked too, and then reads revoked.
    const old = await api.createOffer({ credentials: [plain] });
    await issuer.database.pool.query(`UPDATE offers SET expires_at = now() - interval '1 minute' WHERE id = $1`, [old.id]);
    expect((await api.del(`${OFFERS}/${old.id}`)).statusCode).toBe(204);
    expect((await api.get(`${OFFERS}/${old.id}`)).json().status).toBe('revoked');

    const unknown = randomUUID();
    for (const r of [await api.get(`${OFFERS}/${unknown}`), await api.del(`${OFFERS}/${unknown}`)]) {
      expect(r.statusCode).toBe(404);
      expect(r.json()).toEqual({ code: 'NotFound', message: 'Offer not found' });
    }
    expectBadRequest(await api.get(`${OFFERS}/nope`), ['id'], 'params');
    expectBadRequest(await api.del(`${OFFERS}/nope`), ['id'], 'params');
  });

  it('filters by userId and status, newest first, with pagination', async () => {
    const user = await api.createUser();
    const other = await api.createUser();
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await api.createOffer({ credentials: [plain], userId: user.id })).id);
    await api.createOffer({ credentials: [plain], userId: other.id });
    await api.del(`${OFFERS}/${ids[1]}`);
    await issuer.database.pool.query(`UPDATE offers SET expires_at = now() - interval '1 second' WHERE id = $1`, [ids[3]]);

    const mine = await list(`?userId=${user.id}`);
    expect(mine.data.map((o) => o.id)).toEqual([...ids].reverse());
    expect(mine.data.every((o) => o.userId === user.id)).toBe(true);
    expect(mine.data.map((o) => o.status)).toEqual(['pending', 'expired', 'pending', 'revoked', 'pending']);
    expect((await list(`?userId=${user.id}&status=pending`)).data.map((o) => o.id)).toEqual([ids[4], ids[2], ids[0]]);
    expect((await list(`?userId=${user.id}&status=revoked`)).data.map((o) => o.id)).toEqual([ids[1]]);
    expect((await list(`?userId=${user.id}&status=expired`)).data.map((o) => o.id)).toEqual([ids[3]]);
    expect((await list(`?userId=${user.id}&status=redeemed`)).data).toEqual([]);
    expect((await list(`?userId=${user.id}&status=locked`)).data).toEqual([]);
    expect((await list(`?userId=${randomUUID()}`)).data).toEqual([]);

    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const page: Awaited<ReturnType<typeof list>> = await list(`?userId=${user.id}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(page.data.length).toBeLessThanOrEqual(2);
      seen.push(...page.data.map((o) => o.id));
      cursor = page.nextCursor;
      pages++;
    } while (cursor);
    expect(seen).toEqual([...ids].reverse());
    expect(pages).toBe(3);

    const all = await list('?limit=1000');
    expect(all.data).toHaveLength(await issuer.tables.count('offers'));
    expect(all.data.map((o) => o.id)).toContain((await list(`?userId=${other.id}`)).data[0]!.id);

    expectBadRequest(await api.get(`${OFFERS}?status=active`), ['status'], 'query');
    expectBadRequest(await api.get(`${OFFERS}?userId=me`), ['userId'], 'query');
    expectBadRequest(await api.get(`${OFFERS}?limit=1001`), ['limit'], 'query');
  });
});

describe('secrets at rest', () => {
  it('the database holds no plaintext pre-authorized code or transaction code', async () => {
    const secrets: string[] = [];
    const offers: { id: string; uri: string; transactionCode?: number | string }[] = [];
    for (const transactionCodeConfiguration of [
      { length: 10 },
      { length: 8, inputMode: 'numeric' },
      { length: 10, inputMode: 'text' },
      { length: 9, inputMode: 'text', description: 'SMS' },
      undefined,
    ]) {
      const offer = await api.createOffer({ credentials: [identity], claims: { givenName: 'Ada', familyName: 'Lovelace' }, ...(transactionCodeConfiguration && { transactionCodeConfiguration }) });
      offers.push(offer);
      secrets.push(preAuthorizedCodeOf(offer.uri));
      if (offer.transactionCode !== undefined) secrets.push(String(offer.transactionCode));
    }
    expect(secrets).toHaveLength(9);

    const dump = await issuer.tables.dump();
    expect(dump.tables).toEqual(expect.arrayContaining(['offers', 'users', 'events', 'credential_configurations']));
    expect(dump.rows).toBeGreaterThan(offers.length);
    // The dump does see what the offers stored (so a stored secret would show).
    for (const offer of offers) expect(dump.text).toContain(offer.id);
    expect(dump.text).toContain('Lovelace');

    for (const secret of secrets) {
      expect(dump.text).not.toContain(secret);
      expect(dump.text.toLowerCase()).not.toContain(secret.toLowerCase());
      // Not an unkeyed hash either.
      for (const algorithm of ['sha256', 'sha512', 'sha1', 'md5']) {
        const digest = createHash(algorithm).update(secret).digest();
        expect(dump.text).not.toContain(digest.toString('hex'));
        expect(dump.text).not.toContain(digest.toString('base64url'));
      }
      expect(dump.text).not.toContain(Buffer.from(secret).toString('base64'));
    }
    for (const offer of offers) {
      const row = await offerRow(offer.id);
      expect(row.code_hash.toString('utf8')).not.toContain(preAuthorizedCodeOf(offer.uri));
      expect(row.code_hash.equals(Buffer.from(preAuthorizedCodeOf(offer.uri), 'base64url'))).toBe(false);
      if (offer.transactionCode !== undefined) {
        expect(row.tx_code_hash).not.toBeNull();
        expect(row.tx_code_hash!.length).toBeGreaterThanOrEqual(32);
      }
    }

    // Nor can any API read them back.
    const readers = [`${OFFERS}?limit=1000`, ...offers.map((o) => `${OFFERS}/${o.id}`), `${EVENTS}?limit=1000`, `${USERS}?limit=1000`];
    for (const url of readers) {
      const response = await api.get(url);
      expect(response.statusCode).toBe(200);
      for (const secret of secrets) expect(response.body, url).not.toContain(secret);
    }
    // Nor the log.
    for (const secret of secrets) expect(issuer.logs.join('\n')).not.toContain(secret);
  });
});

describe('request size', () => {
  it('caps the request at 500 KB', async () => {
    const before = await issuer.tables.counts();
    const response: Response = await api.post(OFFERS, { credentials: [plain], claims: { blob: 'x'.repeat(510 * 1024) } });
    expect(response.statusCode).toBe(413);
    expect(response.json().code).toBe('PayloadTooLarge');
    expect(await issuer.tables.counts()).toEqual(before);
  });
});
