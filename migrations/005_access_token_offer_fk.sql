-- An access token belongs to the offer whose redemption issued it (the token look-up joins the two).
-- Offers are swept RETENTION_SECONDS after they expire, which is after every token they issued has
-- expired (a token is issued before its offer expires, and RETENTION_SECONDS is at least the token
-- lifetime), so deleting an offer takes its expired tokens with it.
DELETE FROM access_tokens t WHERE NOT EXISTS (SELECT 1 FROM offers o WHERE o.id = t.offer_id);
ALTER TABLE access_tokens
  ADD CONSTRAINT access_tokens_offer_id_fkey FOREIGN KEY (offer_id) REFERENCES offers (id) ON DELETE CASCADE;
