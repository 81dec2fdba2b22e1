import type { Config } from '../config.js';
import type { ConfigurationRecord, MetadataDialect } from '../formats/format.js';
import { formatOf } from '../formats/index.js';
import { aggregationUri } from '../status-lists/uris.js';
import { DPOP_SIGNING_ALGS, PRE_AUTHORIZED_GRANT, WALLET_PATHS } from '../protocol.js';

const LOCALE = 'en';

/** OID4VCI 1.0 §12.2.4: the Credential Issuer metadata, each configuration described by its format in `dialect`. */
export function credentialIssuerMetadata(config: Config, configurations: ConfigurationRecord[], dialect: MetadataDialect) {
  return {
    credential_issuer: config.publicUrl,
    credential_endpoint: `${config.publicUrl}${WALLET_PATHS.credential}`,
    nonce_endpoint: `${config.publicUrl}${WALLET_PATHS.nonce}`,
    notification_endpoint: `${config.publicUrl}${WALLET_PATHS.notification}`,
    batch_credential_issuance: { batch_size: config.credentials.batchSize },
    display: [{ name: config.issuerName, locale: LOCALE }],
    credential_configurations_supported: Object.fromEntries(configurations.map((c) => [c.id, formatOf(c).metadataEntry(c, config, dialect)])),
  };
}

/** RFC 8414 with the OID4VCI 1.0 §12.3 additions; the issuer is its own authorization server. */
export function authorizationServerMetadata(config: Config) {
  return {
    issuer: config.publicUrl,
    token_endpoint: `${config.publicUrl}${WALLET_PATHS.token}`,
    grant_types_supported: [PRE_AUTHORIZED_GRANT],
    'pre-authorized_grant_anonymous_access_supported': true,
    token_endpoint_auth_methods_supported: ['none'],
    // RFC 8414 §2 requires the member; with no authorization endpoint it names the code flow's type.
    response_types_supported: ['code'],
    dpop_signing_alg_values_supported: [...DPOP_SIGNING_ALGS],
    // draft-ietf-oauth-status-list §9.3. One endpoint only: the SD-JWT VCs' lists, which OAuth verifiers
    // read; each mDoc list names its own aggregation in its CWT (§9.1).
    status_list_aggregation_endpoint: aggregationUri(config, 'jwt'),
  };
}
