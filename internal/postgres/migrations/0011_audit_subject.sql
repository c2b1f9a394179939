-- Audit entries are looked up by subject prefix (enterprise/…, inspection/12): an index that
-- LIKE 'prefix%' can use whatever the database's collation.
CREATE INDEX audit_log_subject_prefix_idx ON audit_log (subject text_pattern_ops, seq);
DROP INDEX audit_log_subject_idx;
