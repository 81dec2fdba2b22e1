import type { ColumnType, Generated } from 'kysely';
import type { NotificationEvent } from '../protocol.js';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type Json<T = unknown> = ColumnType<T, string, string>;

/** The tables as Kysely sees them; migrations/ is the source of truth for their SQL. */
export interface Database {
  api_keys: {
    id: string;
    seq: Generated<string>;
    name: string;
    role: string;
    key_hash: Buffer;
    /** The SECRET key id of key_hash; null: from before key ids. */
    secret_key_id: string | null;
    created_at: Generated<Date>;
    revoked_at: Date | null;
  };
  events: {
    id: string;
    seq: Generated<string>;
    type: string;
    category: string;
    timestamp: Generated<Date>;
    request_id: string | null;
    actor: string | null;
    data: Json<Record<string, unknown>>;
  };
  credential_configurations: {
    id: string;
    seq: Generated<string>;
    format: Generated<string>;
    type: string;
    name: string | null;
    description: string | null;
    claim_mappings: Json<Record<string, unknown>>;
    expires_in: Json<Record<string, number> | null> | null;
    valid_from: Date | null;
    valid_until: Date | null;
    branding: Json<Record<string, unknown> | null> | null;
    include_status: Generated<boolean>;
    status_list_bits: Generated<number>;
    created_at: Generated<Date>;
    updated_at: Timestamp;
  };
  users: {
    id: string;
    seq: Generated<string>;
    claims: Json<Record<string, unknown>>;
    created_at: Generated<Date>;
    updated_at: Timestamp;
  };
  offers: {
    id: string;
    seq: Generated<string>;
    code_hash: Buffer;
    tx_code_hash: Buffer | null;
    user_id: string;
    configuration_ids: string[];
    claims: Json<Record<string, unknown>>;
    status: Generated<'pending' | 'redeemed' | 'revoked' | 'locked'>;
    failed_attempts: Generated<number>;
    expires_at: Timestamp;
    created_at: Generated<Date>;
    redeemed_at: Date | null;
    reference_hash: Buffer | null;
    /** The SECRET key id of its hashes (and of the derived reference and code); null: from before key ids. */
    secret_key_id: string | null;
    tx_code: Json<Record<string, unknown> | null> | null;
  };
  access_tokens: {
    id: string;
    token_hash: Buffer;
    offer_id: string;
    configuration_ids: string[];
    issued_configuration_ids: Generated<string[]>;
    expires_at: Timestamp;
    revoked_at: Date | null;
    created_at: Generated<Date>;
    dpop_jkt: string | null;
    secret_key_id: string | null;
  };
  used_dpop_proofs: {
    proof_hash: Buffer;
    expires_at: Timestamp;
  };
  used_nonces: {
    nonce_hash: Buffer;
    expires_at: Timestamp;
  };
  credential_issuances: {
    id: string;
    offer_id: string;
    access_token_id: string;
    configuration_id: string;
    user_id: string;
    holder_key_thumbprint: string;
    credential_hash: string;
    issuer_kid: string;
    expires_at: Date | null;
    issued_at: Generated<Date>;
    notification_id: string | null;
    holder_event: NotificationEvent | null;
    holder_event_at: Date | null;
    seq: Generated<string>;
    format: string;
    type: string;
    valid_from: Date;
    status_list_id: string | null;
    status_index: number | null;
  };
  status_lists: {
    id: string;
    seq: Generated<string>;
    kind: string;
    signer: string;
    signer_expires_at: Date | null;
    bits: number;
    size: number;
    allocated: Generated<number>;
    version: Generated<string>;
    changed_at: Generated<Date>;
    created_at: Generated<Date>;
    signed: Buffer | null;
    signed_version: string | null;
    signed_at: Date | null;
    signed_until: Date | null;
  };
  status_list_entries: {
    list_id: string;
    idx: number;
    status: Generated<number>;
  };
  issuer_keys: {
    kid: string;
    public_jwk: Json<Record<string, unknown>>;
    private_key: Buffer;
    certificate_chain: string[];
    status: 'active' | 'retired';
    created_at: Generated<Date>;
    retired_at: Date | null;
    publish_until: Date | null;
  };
  iacas: {
    id: string;
    seq: Generated<string>;
    active: Generated<boolean>;
    certificate: Buffer;
    fingerprint: string;
    not_before: Date;
    not_after: Date;
    /** PKCS#8 DER, sealed with SecretKeys.encrypt; null for an unmanaged IACA. */
    private_key: Buffer | null;
    created_at: Generated<Date>;
    updated_at: Timestamp;
  };
  document_signers: {
    id: string;
    seq: Generated<string>;
    iaca_id: string;
    active: Generated<boolean>;
    /** PKCS#8 DER, sealed with SecretKeys.encrypt. */
    private_key: Buffer;
    csr: string | null;
    certificate: Buffer | null;
    not_before: Date | null;
    not_after: Date | null;
    revoked_at: Date | null;
    created_at: Generated<Date>;
    updated_at: Timestamp;
  };
  iaca_revocations: {
    iaca_id: string;
    serial_number: string;
    revoked_at: Date;
  };
  webhooks: {
    id: string;
    seq: Generated<string>;
    url: string;
    events: string[];
    disabled: Generated<boolean>;
    /** The signing secret, sealed with SecretKeys.encrypt. */
    secret: Buffer;
    created_at: Generated<Date>;
    updated_at: Timestamp;
  };
  webhook_deliveries: {
    id: string;
    seq: Generated<string>;
    webhook_id: string;
    event_id: string;
    event_type: string;
    payload: Json<Record<string, unknown>>;
    status: Generated<'pending' | 'delivered' | 'failed'>;
    attempts: Generated<number>;
    next_attempt_at: Generated<Date>;
    lease: string | null;
    retry_from: Generated<Date>;
    created_at: Generated<Date>;
    last_attempt_at: Date | null;
    last_response_status: number | null;
    last_error: string | null;
    delivered_at: Date | null;
  };
}
