-- The evidence route's parcels by enterprise, in id order. The partial index on parcels (uscc)
-- WHERE uscc <> '' could not serve `uscc = $1` in a generic plan (a parameter is not known to
-- be non-empty), so the prepared statements of the evidence route were planned again on every
-- execution; this one serves them, and gives the parcels in the order the answer lists them.
CREATE INDEX parcels_uscc_id_idx ON parcels (uscc, id);
DROP INDEX parcels_uscc_idx;
