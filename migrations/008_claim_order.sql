-- A configuration's claims keep the order the issuer wrote them in (wallets display them in it, and
-- draft 13's `order` lists it): json keeps an object's key order as written, jsonb sorts the keys.
ALTER TABLE credential_configurations ALTER COLUMN claim_mappings DROP DEFAULT;
ALTER TABLE credential_configurations ALTER COLUMN claim_mappings TYPE json USING claim_mappings::json;
ALTER TABLE credential_configurations ALTER COLUMN claim_mappings SET DEFAULT '{}'::json;
