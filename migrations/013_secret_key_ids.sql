-- SECRET rotation (SECRET_PREVIOUS): the key id (a fingerprint of SECRET, see src/crypto/secrets.ts)
-- each keyed hash was made with. NULL: made before key ids, under the SECRET of that time; lookups
-- try the current and the previous secret either way. Sealed private keys carry their key id inside
-- the sealed value.
ALTER TABLE api_keys ADD COLUMN secret_key_id text;
ALTER TABLE offers ADD COLUMN secret_key_id text;
ALTER TABLE access_tokens ADD COLUMN secret_key_id text;
