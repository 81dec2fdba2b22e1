import type { Config } from '../config.js';
import type { Configuration } from '../configurations/schemas.js';
import { CREDENTIAL_PATH } from '../credentials/routes.js';
import { PROOF_SIGNING_ALGS } from '../credentials/proof.js';
import { PRE_AUTHORIZED_GRANT } from '../offers/create-offer.js';
import { NONCE_PATH, TOKEN_PATH } from '../oauth/routes.js';

const LOCALE = 'en';

function configurationDisplay(configuration: Configuration) {
  const branding = configuration.branding;
  const display: Record<string, unknown> = { name: branding?.name ?? configuration.name ?? configuration.type, locale: LOCALE };
  const description = branding?.description ?? configuration.description;
  if (description) display.description = description;
  if (branding?.backgroundColor) display.background_color = branding.backgroundColor;
  if (branding?.textColor) display.text_color = branding.textColor;
  if (branding?.logo) display.logo = { uri: branding.logo.uri, ...(branding.logo.altText && { alt_text: branding.logo.altText }) };
  return [display];
}

/** One SD-JWT VC entry of credential_configurations_supported (OID4VCI 1.0 §12.2.4, Appendix A.3.2). */
function supportedConfiguration(configuration: Configuration, format: Config['credentials']['sdJwtFormat']) {
  const display = configurationDisplay(configuration);
  const claimEntries = Object.entries(configuration.claimMappings);
  return {
    format,
    vct: configuration.type,
    scope: configuration.id,
    cryptographic_binding_methods_supported: ['jwk'],
    credential_signing_alg_values_supported: ['ES256'],
    proof_types_supported: { jwt: { proof_signing_alg_values_supported: [...PROOF_SIGNING_ALGS] } },
    credential_metadata: {
      display,
      claims: claimEntries.map(([name, mapping]) => ({ path: [name], mandatory: mapping.required, display: [{ name, locale: LOCALE }] })),
    },
    // Draft 13 read these at the top level of the configuration.
    display,
    claims: Object.fromEntries(claimEntries.map(([name, mapping]) => [name, { mandatory: mapping.required, display: [{ name, locale: LOCALE }] }])),
    order: claimEntries.map(([name]) => name),
  };
}

export function credentialIssuerMetadata(config: Config, configurations: Configuration[]) {
  return {
    credential_issuer: config.publicUrl,
    credential_endpoint: `${config.publicUrl}${CREDENTIAL_PATH}`,
    nonce_endpoint: `${config.publicUrl}${NONCE_PATH}`,
    batch_credential_issuance: { batch_size: config.credentials.batchSize },
    display: [{ name: config.issuerName, locale: LOCALE }],
    credential_configurations_supported: Object.fromEntries(configurations.map((c) => [c.id, supportedConfiguration(c, config.credentials.sdJwtFormat)])),
  };
}

/** RFC 8414 with the OID4VCI 1.0 §12.3 additions; the issuer is its own authorization server. */
export function authorizationServerMetadata(config: Config) {
  return {
    issuer: config.publicUrl,
    token_endpoint: `${config.publicUrl}${TOKEN_PATH}`,
    grant_types_supported: [PRE_AUTHORIZED_GRANT],
    'pre-authorized_grant_anonymous_access_supported': true,
    token_endpoint_auth_methods_supported: ['none'],
    response_types_supported: [],
  };
}
