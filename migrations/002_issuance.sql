CREATE TABLE credential_configurations (
  id              uuid PRIMARY KEY,
  seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  format          text NOT NULL DEFAULT 'dc+sd-jwt',
  type            text NOT NULL,
  name            text,
  description     text,
  claim_mappings  jsonb NOT NULL DEFAULT '{}',
  expires_in      jsonb,
  branding        jsonb,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id          uuid PRIMARY KEY,
  seq         bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  claims      jsonb NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_claims ON users USING gin (claims jsonb_path_ops);

-- Pre-authorized offers. The code is stored as an HMAC, the transaction code as an HMAC too
-- (it is short, so an unkeyed hash would be brute-forced offline). 'expired' is derived from expires_at.
CREATE TABLE offers (
  id                 uuid PRIMARY KEY,
  seq                bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  code_hash          bytea NOT NULL UNIQUE,
  tx_code_hash       bytea,
  user_id            uuid NOT NULL,
  configuration_ids  uuid[] NOT NULL,
  claims             jsonb NOT NULL DEFAULT '{}',
  status             text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'redeemed', 'revoked', 'locked')),
  failed_attempts    integer NOT NULL DEFAULT 0,
  expires_at         timestamptz NOT NULL,
  created_at         timestamptz NOT NULL DEFAULT now(),
  redeemed_at        timestamptz
);
CREATE INDEX offers_user_seq ON offers (user_id, seq);
CREATE INDEX offers_status_seq ON offers (status, seq);
CREATE INDEX offers_live_configurations ON offers USING gin (configuration_ids) WHERE status = 'pending';
CREATE INDEX offers_expires_at ON offers (expires_at);

CREATE TABLE access_tokens (
  id                 uuid PRIMARY KEY,
  token_hash         bytea NOT NULL UNIQUE,
  offer_id           uuid NOT NULL,
  configuration_ids  uuid[] NOT NULL,
  issued_configuration_ids uuid[] NOT NULL DEFAULT '{}',
  expires_at         timestamptz NOT NULL,
  revoked_at         timestamptz,
  created_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX access_tokens_offer ON access_tokens (offer_id);
CREATE INDEX access_tokens_expires_at ON access_tokens (expires_at);

-- c_nonces are self-verifying (MAC'd); only used ones are stored, until they would have expired anyway.
CREATE TABLE used_nonces (
  nonce_hash  bytea PRIMARY KEY,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX used_nonces_expires_at ON used_nonces (expires_at);

-- One row per credential issued. Claim values live in the offer's snapshot, not here again.
CREATE TABLE credential_issuances (
  id                uuid PRIMARY KEY,
  offer_id          uuid NOT NULL,
  access_token_id   uuid NOT NULL,
  configuration_id  uuid NOT NULL,
  user_id           uuid NOT NULL,
  holder_key_thumbprint text NOT NULL,
  credential_hash   text NOT NULL,
  -- The issuer key that signed it and when it expires: a retired key is published until then.
  issuer_kid        text NOT NULL,
  expires_at        timestamptz,
  issued_at         timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX credential_issuances_issuer_kid ON credential_issuances (issuer_kid, expires_at);
CREATE INDEX credential_issuances_offer ON credential_issuances (offer_id);

-- Issuer signing keys. The private key is encrypted (AES-256-GCM) under the server secret.
CREATE TABLE issuer_keys (
  kid                text PRIMARY KEY,
  public_jwk         jsonb NOT NULL,
  private_key        bytea NOT NULL,
  certificate_chain  text[] NOT NULL,
  status             text NOT NULL CHECK (status IN ('active', 'retired')),
  created_at         timestamptz NOT NULL DEFAULT now(),
  retired_at         timestamptz,
  -- A retired key stays in the JWKS until the credentials it signed have expired.
  publish_until      timestamptz
);
CREATE UNIQUE INDEX issuer_keys_one_active ON issuer_keys (status) WHERE status = 'active';
