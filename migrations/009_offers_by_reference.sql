-- Offers by reference (OID4VCI 1.0 §4.1.3): the wallet fetches the offer from a URL that only the
-- offer's creator was given. The reference is stored as a keyed hash, like the code; the offer's
-- tx_code object (length, input mode, description: no secret) is kept to serve the offer again.
ALTER TABLE offers ADD COLUMN reference_hash bytea;
ALTER TABLE offers ADD COLUMN tx_code jsonb;
CREATE UNIQUE INDEX offers_reference_hash ON offers (reference_hash) WHERE reference_hash IS NOT NULL;
