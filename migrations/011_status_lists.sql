-- Token Status Lists (draft-ietf-oauth-status-list) and the records of issued credentials.

-- A status list: one kind of token (statuslist+jwt for SD-JWT VCs, statuslist+cwt for mDocs), signed
-- by one key (`signer`: the issuer key's kid, or mdoc-ds:<document signer id>), with 1 or 2 bits per
-- entry. `allocated` counts the entries handed out; `version` is bumped by every status change, and
-- the signed token is kept with the version it shows, so that every instance serves the same bytes.
CREATE TABLE status_lists (
  id                uuid PRIMARY KEY,
  seq               bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
  kind              text NOT NULL CHECK (kind IN ('jwt', 'cwt')),
  signer            text NOT NULL,
  -- Past it the signer's certificate has expired: no token can be signed, and so are the credentials it signed.
  signer_expires_at timestamptz,
  bits              smallint NOT NULL CHECK (bits IN (1, 2)),
  size              integer NOT NULL CHECK (size > 0 AND size % 8 = 0),
  allocated         integer NOT NULL DEFAULT 0,
  version           bigint NOT NULL DEFAULT 0,
  changed_at        timestamptz NOT NULL DEFAULT now(),
  created_at        timestamptz NOT NULL DEFAULT now(),
  signed            bytea,
  signed_version     bigint,
  signed_at   timestamptz,
  signed_until  timestamptz
);
CREATE INDEX status_lists_open ON status_lists (kind, signer, bits, seq);

-- One row per entry handed out; entries never come back (an index is never used twice). `status`:
-- 0 valid, 1 invalid, 2 suspended. An entry outlives the record of its credential.
CREATE TABLE status_list_entries (
  list_id  uuid NOT NULL REFERENCES status_lists (id),
  idx      integer NOT NULL,
  status   smallint NOT NULL DEFAULT 0 CHECK (status IN (0, 1, 2)),
  PRIMARY KEY (list_id, idx)
);
CREATE INDEX status_list_entries_set ON status_list_entries (list_id) WHERE status <> 0;

-- Hands out `p_count` entries of an open list of this kind, signer and width: a list takes new
-- entries until three quarters of it are used (then a new one is made), each at an index drawn at
-- random among the free ones (herd privacy: an index says nothing of when its credential was
-- issued; the unused quarter stays as decoys). The list's row is locked until the caller's statement
-- commits, so instances and concurrent requests never share an entry; a list is created under an
-- advisory lock, so a burst makes one new list, not one per request. The randomness comes from
-- gen_random_uuid(), which draws from a cryptographic source.
CREATE FUNCTION allocate_status_entries(p_kind text, p_signer text, p_signer_expires_at timestamptz, p_bits smallint, p_size integer, p_count integer)
RETURNS TABLE (list_id uuid, idx integer) LANGUAGE plpgsql VOLATILE AS $$
DECLARE
  v_list uuid;
  v_size integer;
  v_index integer;
  v_found integer := 0;
BEGIN
  -- The caller's statement commits without waiting for its WAL flush: a credential carrying these
  -- entries is only handed out after its issuance record commits synchronously, which flushes this
  -- earlier WAL too. A crash before that loses only entries nobody holds. One fsync less per request.
  PERFORM set_config('synchronous_commit', 'off', true);
  FOR attempt IN 1..2 LOOP
    UPDATE status_lists l SET allocated = l.allocated + p_count
    WHERE l.id = (SELECT s.id FROM status_lists s
                  WHERE s.kind = p_kind AND s.signer = p_signer AND s.bits = p_bits AND s.allocated + p_count <= s.size * 3 / 4
                  ORDER BY s.seq LIMIT 1)
      AND l.allocated + p_count <= l.size * 3 / 4
    RETURNING l.id, l.size INTO v_list, v_size;
    EXIT WHEN v_list IS NOT NULL;
    -- None with room: look again under the lock (another request may just have made one), then make one.
    IF attempt = 1 THEN
      PERFORM pg_advisory_xact_lock(hashtextextended('status-list:' || p_kind || ':' || p_signer || ':' || p_bits, 0));
    ELSE
      INSERT INTO status_lists (id, kind, signer, signer_expires_at, bits, size, allocated)
      VALUES (gen_random_uuid(), p_kind, p_signer, p_signer_expires_at, p_bits, p_size, p_count)
      RETURNING status_lists.id, status_lists.size INTO v_list, v_size;
    END IF;
  END LOOP;
  WHILE v_found < p_count LOOP
    v_index := ('x' || substr(md5(gen_random_uuid()::text), 1, 8))::bit(32)::bigint % v_size;
    INSERT INTO status_list_entries (list_id, idx) VALUES (v_list, v_index) ON CONFLICT DO NOTHING;
    IF FOUND THEN
      v_found := v_found + 1;
      list_id := v_list;
      idx := v_index;
      RETURN NEXT;
    END IF;
  END LOOP;
END;
$$;

-- Configurations choose whether their credentials carry a status list entry, and its width.
ALTER TABLE credential_configurations
  ADD COLUMN include_status boolean NOT NULL DEFAULT false,
  ADD COLUMN status_list_bits smallint NOT NULL DEFAULT 1 CHECK (status_list_bits IN (1, 2));

-- The record of each issued credential, found by its user: its format, when it is valid, and its entry.
ALTER TABLE credential_issuances
  ADD COLUMN seq bigint GENERATED ALWAYS AS IDENTITY,
  ADD COLUMN format text,
  ADD COLUMN type text,
  ADD COLUMN valid_from timestamptz,
  ADD COLUMN status_list_id uuid,
  ADD COLUMN status_index integer,
  ADD FOREIGN KEY (status_list_id, status_index) REFERENCES status_list_entries (list_id, idx);
-- Credentials issued before: their configuration's format and type where it still exists (before
-- mDocs every credential was an SD-JWT VC).
UPDATE credential_issuances c SET format = coalesce(f.format, 'dc+sd-jwt'), type = coalesce(f.type, ''), valid_from = c.issued_at
FROM credential_issuances same LEFT JOIN credential_configurations f ON f.id = same.configuration_id
WHERE same.id = c.id;
ALTER TABLE credential_issuances ALTER COLUMN format SET NOT NULL, ALTER COLUMN type SET NOT NULL, ALTER COLUMN valid_from SET NOT NULL;
CREATE UNIQUE INDEX credential_issuances_seq ON credential_issuances (seq);
CREATE INDEX credential_issuances_user ON credential_issuances (user_id, seq);
