/**
 * The protocol vocabulary in one place: what wallets and verifiers see on the wire (OpenID4VCI 1.0
 * and draft 13, RFC 6749/6750, SD-JWT VC). Domains import these; none defines its own copy.
 */

/** OID4VCI 1.0 §4.1.1: the grant type of pre-authorized offers. */
export const PRE_AUTHORIZED_GRANT = 'urn:ietf:params:oauth:grant-type:pre-authorized_code';

/** OID4VCI 1.0 Appendix F.1: the `typ` of a JWT key proof. */
export const PROOF_TYP = 'openid4vci-proof+jwt';

/** The JOSE algorithms this issuer accepts for key proofs and signs credentials with. */
export const PROOF_SIGNING_ALGS = ['ES256'] as const;
export const CREDENTIAL_SIGNING_ALG = 'ES256';
/** RFC 9449: the algorithms a DPoP proof may be signed with (advertised as dpop_signing_alg_values_supported). */
export const DPOP_SIGNING_ALGS = ['ES256'] as const;
/** ES256 as COSE names it (RFC 9053 §2.1): mDocs are signed with it, and OID4VCI 1.0 Appendix A.2 lists it so. */
export const COSE_ALG_ES256 = -7;

/** Wallet-facing endpoints, below the path of PUBLIC_URL (MATTR VII's paths, plus the 1.0 nonce endpoint). */
export const WALLET_PATHS = {
  token: '/v1/oauth/token',
  nonce: '/v1/openid/nonce',
  credential: '/v1/openid/credential',
  notification: '/v1/openid/notification',
  /** Offers by reference: `<this>/<reference>` (OID4VCI 1.0 §4.1.3). */
  credentialOffer: '/v1/openid/credential-offers',
} as const;

/**
 * Token Status Lists, public under PUBLIC_URL: `<this>/<list id>/token` and `<this>/distribution`
 * (MATTR VII's paths for mDocs; the same shape for SD-JWT VCs).
 */
export const STATUS_LIST_PATHS = {
  jwt: '/v2/credentials/sd-jwt/status-lists',
  cwt: '/v2/credentials/mobile/status-lists',
} as const;

/** The two kinds of Status List Token (§5): JWT for JOSE credentials (SD-JWT VC), CWT for COSE ones (mDocs). */
export type StatusListKind = keyof typeof STATUS_LIST_PATHS;

/** OID4VCI 1.0 §11.1: what a wallet may say became of the credentials of a response. */
export const NOTIFICATION_EVENTS = ['credential_accepted', 'credential_failure', 'credential_deleted'] as const;
export type NotificationEvent = (typeof NOTIFICATION_EVENTS)[number];

/** OID4VCI 1.0 §4.1: the custom scheme of offer URIs, unless the wallet has an https link of its own. */
export const CREDENTIAL_OFFER_SCHEME = 'openid-credential-offer://';

/** `/.well-known/<name>` documents (OID4VCI 1.0 §12.2.2, RFC 8414 §3, SD-JWT VC §5). */
export const WELL_KNOWN = {
  credentialIssuer: 'openid-credential-issuer',
  authorizationServer: 'oauth-authorization-server',
  jwtVcIssuer: 'jwt-vc-issuer',
} as const;

/**
 * Every error code the wallet-facing endpoints answer with: RFC 6749 §5.2 (token endpoint), RFC 6750
 * §3.1 (bearer tokens), OID4VCI 1.0 §8.3.1.2 (credential endpoint) and draft 13 §7.3.1.2.
 */
export type OAuthErrorCode =
  // RFC 6749 §5.2
  | 'invalid_request'
  | 'invalid_grant'
  | 'unsupported_grant_type'
  // RFC 6750 §3.1
  | 'invalid_token'
  | 'insufficient_scope'
  // RFC 9449 §5, §7.1, §8, §9 (DPoP)
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  // OID4VCI 1.0 §8.3.1.2
  | 'invalid_credential_request'
  | 'unknown_credential_configuration'
  | 'unknown_credential_identifier'
  | 'invalid_proof'
  | 'invalid_nonce'
  | 'credential_request_denied'
  | 'invalid_encryption_parameters'
  // OID4VCI 1.0 §11.3 (notification endpoint)
  | 'invalid_notification_id'
  | 'invalid_notification_request'
  // Draft 13 §7.3.1.2
  | 'unsupported_credential_type'
  | 'unsupported_credential_format'
  // RFC 6749 §4.1.2.1, used for every wallet-facing endpoint (an outage, a rate limit)
  | 'temporarily_unavailable'
  | 'server_error';
