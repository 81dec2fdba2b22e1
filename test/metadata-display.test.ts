import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestIssuer, type TestIssuer } from './support/issuer.js';

// What a wallet shows of a credential comes from the metadata: the claims in the order the
// configuration lists them, with their labels in each language, and the card in each language.
let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await startTestIssuer();
});
afterAll(() => issuer.close());

describe('credential metadata display', () => {
  it('keeps the claims in the order the configuration wrote them, with labels per locale', async () => {
    const names = ['given_name', 'family_name', 'birthdate', 'address', 'alpha'];
    const { id } = await issuer.client.createConfiguration({
      type: 'https://credentials.example.com/ordered',
      claimMappings: {
        given_name: { mapFrom: 'claims.givenName', display: [{ name: 'Given name' }, { name: 'Vorname', locale: 'de' }] },
        family_name: { mapFrom: 'claims.familyName', display: [{ name: 'Family name', locale: 'en' }, { name: 'Nachname', locale: 'de' }] },
        birthdate: { mapFrom: 'claims.birthdate' },
        address: { mapFrom: 'claims.address' },
        alpha: { mapFrom: 'claims.alpha' },
      },
    });
    // The management API answers in that order too.
    expect(Object.keys((await issuer.client.get(`/v2/credentials/sd-jwt/configurations/${id}`)).json().claimMappings)).toEqual(names);

    const entry = (await issuer.client.metadata('credentialIssuer')).credential_configurations_supported[id];
    expect(entry.credential_metadata.claims.map((claim: { path: string[] }) => claim.path[0])).toEqual(names);
    expect(entry.order).toEqual(names);
    expect(Object.keys(entry.claims)).toEqual(names);
    expect(entry.credential_metadata.claims[0].display).toEqual([
      { name: 'Given name', locale: 'en' },
      { name: 'Vorname', locale: 'de' },
    ]);
    expect(entry.credential_metadata.claims[2].display).toEqual([{ name: 'birthdate', locale: 'en' }]);
  });

  it('gives mDoc elements their labels too, in the order the namespace lists them', async () => {
    const { id } = await issuer.client.createMdocConfiguration({
      type: 'org.example.labelled.1',
      claimMappings: {
        'org.example.labelled.1': {
          surname: { mapFrom: 'claims.surname', display: [{ name: 'Surname', locale: 'en' }, { name: 'Nom', locale: 'fr' }] },
          age: { mapFrom: 'claims.age', type: 'number' },
        },
      },
    });
    const entry = (await issuer.client.metadata('credentialIssuer')).credential_configurations_supported[id];
    expect(entry.credential_metadata.claims).toEqual([
      { path: ['org.example.labelled.1', 'surname'], mandatory: false, display: [{ name: 'Surname', locale: 'en' }, { name: 'Nom', locale: 'fr' }] },
      { path: ['org.example.labelled.1', 'age'], mandatory: false, display: [{ name: 'age', locale: 'en' }] },
    ]);
    expect(entry.claims['org.example.labelled.1'].surname.display[1]).toEqual({ name: 'Nom', locale: 'fr' });
  });

  it('shows the card in several languages, sharing its colours and logo', async () => {
    const { id } = await issuer.client.createConfiguration({
      type: 'https://credentials.example.com/localized',
      branding: {
        name: 'Identity card',
        description: 'Issued by Example',
        backgroundColor: '#0B3D91',
        localized: [{ locale: 'de', name: 'Ausweis', description: 'Ausgestellt von Example' }, { locale: 'fr', name: "Carte d'identité" }],
      },
    });
    const entry = (await issuer.client.metadata('credentialIssuer')).credential_configurations_supported[id];
    expect(entry.credential_metadata.display).toEqual([
      { name: 'Identity card', locale: 'en', description: 'Issued by Example', background_color: '#0B3D91' },
      { name: 'Ausweis', locale: 'de', description: 'Ausgestellt von Example', background_color: '#0B3D91' },
      { name: "Carte d'identité", locale: 'fr', background_color: '#0B3D91' },
    ]);
  });

  it('refuses a label or locale that is not one', async () => {
    const bad = await issuer.client.post('/v2/credentials/sd-jwt/configurations', {
      type: 'https://credentials.example.com/bad-labels',
      claimMappings: { a: { mapFrom: 'claims.a', display: [{ name: 'A', locale: 'not a locale!' }] } },
      branding: { localized: [{ locale: 'de' }] },
    });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().details.map((detail: { param: string }) => detail.param).sort()).toEqual(['branding.localized[0].name', 'claimMappings.a.display[0].locale']);
  });
});
