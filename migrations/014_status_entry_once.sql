-- Added after 011 had run: changes to 011 itself would never reach a database that ran it.

-- Credentials issued before 011 whose configuration was gone by then were all recorded as SD-JWT
-- VCs; the signer tells the mDocs apart (they are signed by document signers, mdoc-ds:<id>).
UPDATE credential_issuances SET format = 'mso_mdoc' WHERE issuer_kid LIKE 'mdoc-ds:%' AND format <> 'mso_mdoc';

-- One credential per status list entry, whatever happens upstream.
CREATE UNIQUE INDEX credential_issuances_status_entry ON credential_issuances (status_list_id, status_index) WHERE status_list_id IS NOT NULL;
