-- The audit log's CHECK constraints without regular expressions: each group commit of evidence
-- views checks three per entry, and PostgreSQL's regex engine took some 10 µs for each (perf
-- on the backends under make bench-api: 4% of their CPU time in pg_regexec, more than the
-- entries' three index insertions). ltrim with a set of characters leaves '' exactly when
-- every character is in the set, some twenty times cheaper; the rules are unchanged:
-- prev_hash and hash are 64 lowercase hexadecimal digits, key_id 1 to 64 of A–Z a–z 0–9 . _ -
-- (NULL on the entries written before keys, 0020).
ALTER TABLE audit_log
    DROP CONSTRAINT audit_log_prev_hash_check,
    DROP CONSTRAINT audit_log_hash_check,
    DROP CONSTRAINT audit_log_key_id_check,
    ADD CONSTRAINT audit_log_prev_hash_check CHECK (length(prev_hash) = 64 AND ltrim(prev_hash, '0123456789abcdef') = ''),
    ADD CONSTRAINT audit_log_hash_check CHECK (length(hash) = 64 AND ltrim(hash, '0123456789abcdef') = ''),
    ADD CONSTRAINT audit_log_key_id_check CHECK (length(key_id) BETWEEN 1 AND 64
        AND ltrim(key_id, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-') = '');
