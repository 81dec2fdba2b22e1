import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../config.js';
import type { ConfigurationRecord } from '../format.js';
import { configurationInputSchema, msoMdoc } from './mso-mdoc.js';

const config = loadConfig({ PUBLIC_URL: 'https://issuer.example.com' });
const configuration: ConfigurationRecord = {
  id: '0190a9a0-0000-7000-8000-000000000001',
  format: 'mso_mdoc',
  type: 'org.iso.18013.5.1.mDL',
  name: 'Driving licence',
  claimMappings: configurationInputSchema.parse({
    type: 'org.iso.18013.5.1.mDL',
    claimMappings: { 'org.iso.18013.5.1': { family_name: { mapFrom: 'claims.familyName', required: true }, portrait: { mapFrom: 'claims.portrait', type: 'binary' } } },
  }).claimMappings,
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
};
const COMMON = {
  format: 'mso_mdoc',
  doctype: 'org.iso.18013.5.1.mDL',
  scope: configuration.id,
  cryptographic_binding_methods_supported: ['cose_key'],
  proof_types_supported: { jwt: { proof_signing_alg_values_supported: ['ES256'] } },
};
const DISPLAY = [{ name: 'Driving licence', locale: 'en' }];
const V1 = {
  credential_metadata: {
    display: DISPLAY,
    claims: [
      { path: ['org.iso.18013.5.1', 'family_name'], mandatory: true, display: [{ name: 'family_name', locale: 'en' }] },
      { path: ['org.iso.18013.5.1', 'portrait'], mandatory: false, display: [{ name: 'portrait', locale: 'en' }] },
    ],
  },
};
const DRAFT13 = {
  display: DISPLAY,
  claims: {
    'org.iso.18013.5.1': { family_name: { mandatory: true, display: [{ name: 'family_name', locale: 'en' }] }, portrait: { mandatory: false, display: [{ name: 'portrait', locale: 'en' }] } },
  },
  order: ['org.iso.18013.5.1~family_name', 'org.iso.18013.5.1~portrait'],
};

describe('the mso_mdoc metadata entry, per dialect', () => {
  it('OpenID4VCI 1.0 (Appendix A.2.2): the COSE algorithm -7, claims as [namespace, element] paths in credential_metadata', () => {
    expect(msoMdoc.metadataEntry(configuration, config, '1.0')).toEqual({ ...COMMON, credential_signing_alg_values_supported: [-7], ...V1 });
  });

  it('draft 13: the JOSE algorithm name, display, claims by namespace and order at the top', () => {
    expect(msoMdoc.metadataEntry(configuration, config, 'draft13')).toEqual({ ...COMMON, credential_signing_alg_values_supported: ['ES256'], ...DRAFT13 });
  });

  it('both: every member of either dialect but the algorithm, which has no value both accept', () => {
    expect(msoMdoc.metadataEntry(configuration, config, 'both')).toEqual({ ...COMMON, ...V1, ...DRAFT13 });
  });
});

describe('draft 13 requests', () => {
  it('name a configuration by its doctype', () => {
    expect(msoMdoc.namedByDraft13Request({ format: 'mso_mdoc', doctype: 'org.iso.18013.5.1.mDL' }, configuration)).toBe(true);
    expect(msoMdoc.namedByDraft13Request({ format: 'mso_mdoc', doctype: 'org.iso.18013.5.1.mDLx' }, configuration)).toBe(false);
    expect(msoMdoc.namedByDraft13Request({ format: 'mso_mdoc', vct: 'org.iso.18013.5.1.mDL' }, configuration)).toBe(false);
  });
});
