import jsQRModule from 'jsqr';
import { PNG } from 'pngjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PRE_AUTHORIZED_GRANT, WALLET_PATHS } from '../src/protocol.js';
import { OFFERS, decodeOfferUri, tokenForm } from './support/client.js';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';

// Phone wallets scan offers: by reference the URI stays short (a simple QR code) and the wallet
// fetches the offer from a public, unguessable URL that works until the offer is redeemed, revoked
// or expires. QR codes come from the service, in PNG or SVG.
let issuer: TestIssuer;
let configurationId: string;
beforeAll(async () => {
  issuer = await startTestIssuer({ publicUrl: 'https://issuer.example.com/tenant' });
  configurationId = (await issuer.client.createConfiguration()).id;
});
afterAll(() => issuer.close());

const api = () => issuer.client;

/** The offer URL a by-reference URI points to, and its path as the service serves it. */
function referenceOf(uri: string) {
  const match = /^openid-credential-offer:\/\/\?credential_offer_uri=(.+)$/.exec(uri);
  expect(match, uri).not.toBeNull();
  const url = new URL(decodeURIComponent(match![1]!));
  return { url: url.href, path: url.pathname };
}

const fetchOffer = (path: string) => api().call('GET', path, undefined, null);

function readQr(png: Buffer): string | undefined {
  const image = PNG.sync.read(png);
  // jsqr is CommonJS with a default export in its types only: in ESM the function is the module.
  const jsQR = ((jsQRModule as unknown as { default?: typeof jsQRModule }).default ?? jsQRModule) as unknown as typeof jsQRModule.default;
  return jsQR(new Uint8ClampedArray(image.data), image.width, image.height)?.data;
}

describe('an offer by reference', () => {
  it('is a short URI to a public URL that serves the offer, as often as asked, until it is redeemed', async () => {
    const created = await api().createOffer({ credentials: [configurationId], byReference: true, transactionCodeConfiguration: { description: 'The code we sent you' } });
    const { url, path } = referenceOf(created.uri);
    expect(url).toMatch(/^https:\/\/issuer\.example\.com\/tenant\/v1\/openid\/credential-offers\/[A-Za-z0-9_-]{43}$/);
    expect(created.uri.length).toBeLessThan(200);

    const first = await fetchOffer(path);
    expect(first.statusCode, first.body).toBe(200);
    expect(first.headers['content-type']).toMatch(/^application\/json/);
    expect(first.headers['cache-control']).toBe('no-store');
    const offer = first.json();
    expect(offer).toEqual({
      credential_issuer: 'https://issuer.example.com/tenant',
      credential_configuration_ids: [configurationId],
      grants: { [PRE_AUTHORIZED_GRANT]: { 'pre-authorized_code': expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), tx_code: { length: 6, input_mode: 'numeric', description: 'The code we sent you' } } },
    });
    // Fetching consumes nothing.
    expect((await fetchOffer(path)).json()).toEqual(offer);

    // The wallet endpoints live under the public URL's path too.
    const token = await api().send({
      method: 'POST',
      path: `/tenant${WALLET_PATHS.token}`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: tokenForm({ 'pre-authorized_code': offer.grants[PRE_AUTHORIZED_GRANT]['pre-authorized_code'], tx_code: String(created.transactionCode) }),
    });
    expect(token.statusCode, token.body).toBe(200);
    const gone = await fetchOffer(path);
    expect(gone.statusCode).toBe(404);
    expect(gone.json()).toEqual({ error: 'invalid_request', error_description: expect.any(String) });
  });

  it('is gone once revoked or expired, and an unknown or malformed reference is a 404', async () => {
    const revoked = await api().createOffer({ credentials: [configurationId], byReference: true });
    expect((await api().del(`${OFFERS}/${revoked.id}`)).statusCode).toBe(204);
    expect((await fetchOffer(referenceOf(revoked.uri).path)).statusCode).toBe(404);

    const expired = await api().createOffer({ credentials: [configurationId], byReference: true });
    await issuer.database.pool.query("UPDATE offers SET expires_at = now() - interval '1 second' WHERE id = $1", [expired.id]);
    expect((await fetchOffer(referenceOf(expired.uri).path)).statusCode).toBe(404);

    for (const reference of ['x'.repeat(43), 'short', '../../etc/passwd']) {
      expect((await fetchOffer(`/tenant/v1/openid/credential-offers/${encodeURIComponent(reference)}`)).statusCode).toBe(404);
    }
  });

  it('stores neither its reference nor its code in clear', async () => {
    const created = await api().createOffer({ credentials: [configurationId], byReference: true });
    const { path } = referenceOf(created.uri);
    const reference = path.split('/').pop()!;
    const code = (await fetchOffer(path)).json().grants[PRE_AUTHORIZED_GRANT]['pre-authorized_code'] as string;
    const { rows } = await issuer.database.pool.query('SELECT * FROM offers WHERE id = $1', [created.id]);
    const stored = JSON.stringify(rows[0], (_key, value) => (value?.type === 'Buffer' ? Buffer.from(value.data).toString('base64url') : value));
    expect(stored).not.toContain(reference);
    expect(stored).not.toContain(code);
    expect(rows[0].reference_hash).toBeInstanceOf(Buffer);
  });
});

describe('QR codes', () => {
  it('of an offer by reference: PNG by default, SVG when asked, and the PNG reads back as the URI', async () => {
    const created = await api().createOffer({ credentials: [configurationId], byReference: true });
    const png = await issuer.app.inject({ url: `${OFFERS}/${created.id}/qrcode`, headers: { authorization: `Bearer ${issuer.adminKey}` } });
    expect(png.statusCode).toBe(200);
    expect(png.headers['content-type']).toBe('image/png');
    expect(readQr(png.rawPayload)).toBe(created.uri);
    const svg = await issuer.app.inject({ url: `${OFFERS}/${created.id}/qrcode`, headers: { authorization: `Bearer ${issuer.adminKey}`, accept: 'image/svg+xml' } });
    expect(svg.headers['content-type']).toMatch(/^image\/svg\+xml/);
    expect(svg.body).toMatch(/^<svg[^>]*viewBox/);
  });

  it('of an offer by value: only at creation (its code is not stored), as a data: URI that reads back as the URI', async () => {
    const created = await api().createOffer({ credentials: [configurationId], qrCode: 'png' });
    expect(created.qrCode).toMatch(/^data:image\/png;base64,/);
    expect(readQr(Buffer.from(created.qrCode!.split(',')[1]!, 'base64'))).toBe(created.uri);
    const later = await api().get(`${OFFERS}/${created.id}/qrcode`);
    expect(later.statusCode).toBe(409);
    expect(later.json().message).toMatch(/byReference/);
    const svg = await api().createOffer({ credentials: [configurationId], byReference: true, qrCode: 'svg' });
    expect(Buffer.from(svg.qrCode!.split(',')[1]!, 'base64').toString()).toMatch(/^<svg/);
  });

  it('of an unknown offer: 404; for a key without an issuing role: 403', async () => {
    expect((await api().get(`${OFFERS}/00000000-0000-7000-8000-000000000000/qrcode`)).statusCode).toBe(404);
    const auditor = await api().createKey('auditor');
    const created = await api().createOffer({ credentials: [configurationId], byReference: true });
    expect((await api().get(`${OFFERS}/${created.id}/qrcode`, auditor.key)).statusCode).toBe(403);
  });
});

describe('a wallet with a link of its own (WALLET_OFFER_URL)', () => {
  it('gets offer URIs on its https link instead of the custom scheme', async () => {
    const linked = await startTestIssuer({ databaseUrl: issuer.databaseUrl, env: { WALLET_OFFER_URL: 'https://wallet.example.com/offer' } });
    try {
      const byValue = await linked.client.createOffer({ credentials: [configurationId] });
      expect(byValue.uri).toMatch(/^https:\/\/wallet\.example\.com\/offer\?credential_offer=/);
      expect(decodeOfferUri(byValue.uri).credential_configuration_ids).toEqual([configurationId]);
      const byReference = await linked.client.createOffer({ credentials: [configurationId], byReference: true });
      expect(byReference.uri).toMatch(/^https:\/\/wallet\.example\.com\/offer\?credential_offer_uri=https%3A%2F%2F/);
    } finally {
      await linked.close();
    }
  });
});
