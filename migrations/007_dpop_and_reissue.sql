-- DPoP (RFC 9449): an access token issued with a DPoP proof is bound to the thumbprint of its key
-- (cnf.jkt) and usable only with proofs of that key.
ALTER TABLE access_tokens ADD COLUMN dpop_jkt text;

-- DPoP proofs already seen (hash of key thumbprint and jti), kept until they would be too old anyway,
-- so that a proof is accepted once across every instance.
CREATE TABLE used_dpop_proofs (
  proof_hash  bytea PRIMARY KEY,
  expires_at  timestamptz NOT NULL
);
CREATE INDEX used_dpop_proofs_expires_at ON used_dpop_proofs (expires_at);

-- A wallet whose credential response was lost asks again with the same keys: the credentials an
-- access token issued for a configuration are found by token.
CREATE INDEX credential_issuances_access_token ON credential_issuances (access_token_id, configuration_id);
