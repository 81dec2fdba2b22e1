-- mDocs (ISO/IEC 18013-5): IACAs, the trust anchors verifiers hold, and the document signers whose
-- certificates they issue. Private keys are encrypted (AES-256-GCM) under the server secret.

-- An IACA. private_key is NULL for an unmanaged IACA, whose key its owner keeps offline.
CREATE TABLE iacas (
  id           uuid PRIMARY KEY,
  seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  active       boolean NOT NULL DEFAULT false,
  certificate  bytea NOT NULL,
  -- SHA-256 of the certificate (DER), hex: the same IACA is registered once.
  fingerprint  text NOT NULL UNIQUE,
  not_before   timestamptz NOT NULL,
  not_after    timestamptz NOT NULL,
  private_key  bytea,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now()
);

-- A document signer: its key is always made here. Under a managed IACA its certificate is issued
-- here at once; under an unmanaged one the CSR waits for the certificate its owner signs offline.
CREATE TABLE document_signers (
  id           uuid PRIMARY KEY,
  seq          bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  iaca_id      uuid NOT NULL REFERENCES iacas (id) ON DELETE CASCADE,
  active       boolean NOT NULL DEFAULT false,
  private_key  bytea NOT NULL,
  csr          text,
  certificate  bytea,
  not_before   timestamptz,
  not_after    timestamptz,
  revoked_at   timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  CHECK ((certificate IS NULL) = (not_before IS NULL) AND (certificate IS NULL) = (not_after IS NULL)),
  CHECK (NOT active OR (certificate IS NOT NULL AND revoked_at IS NULL))
);
CREATE INDEX document_signers_iaca ON document_signers (iaca_id);

-- The document signer certificates an IACA's CRL lists. Kept apart from document_signers so that
-- deleting a revoked signer does not take it off the CRL.
CREATE TABLE iaca_revocations (
  iaca_id        uuid NOT NULL REFERENCES iacas (id) ON DELETE CASCADE,
  serial_number  text NOT NULL,
  revoked_at     timestamptz NOT NULL,
  PRIMARY KEY (iaca_id, serial_number)
);

-- mDoc configurations: when their credentials become valid, and an end that wins over expires_in.
ALTER TABLE credential_configurations ADD COLUMN valid_from timestamptz, ADD COLUMN valid_until timestamptz;
-- A docType names one configuration: a draft-13 request names the configuration by its doctype.
CREATE UNIQUE INDEX credential_configurations_mdoc_doctype ON credential_configurations (type) WHERE format = 'mso_mdoc';
