-- Changes that bear on who may do what are announced on the channel offsite_auth, so that an
-- API process that keeps principals of API tokens and agencies of enterprises in memory
-- (postgres.EnforceService.CacheAuth) drops them the moment such a change commits: a token
-- revoked, expired early or moved; a user disabled, given another role, agency or enterprise;
-- an enterprise moved to another agency; an agency changed or removed. The notification is
-- sent at commit, by the transaction that made the change, whoever made it.
CREATE FUNCTION auth_changed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('offsite_auth', TG_TABLE_NAME);
    RETURN NULL;
END $$;

-- Noting a token's last use (once a minute) is no change of anyone's rights.
CREATE TRIGGER api_tokens_auth_changed AFTER UPDATE OF token_sha256, user_id, expires_at, revoked_at OR DELETE OR TRUNCATE ON api_tokens
    FOR EACH STATEMENT EXECUTE FUNCTION auth_changed();
CREATE TRIGGER users_auth_changed AFTER UPDATE OR DELETE OR TRUNCATE ON users
    FOR EACH STATEMENT EXECUTE FUNCTION auth_changed();
CREATE TRIGGER agencies_auth_changed AFTER UPDATE OR DELETE OR TRUNCATE ON agencies
    FOR EACH STATEMENT EXECUTE FUNCTION auth_changed();
CREATE TRIGGER enterprises_auth_changed AFTER UPDATE OF agency_id, uscc OR DELETE OR TRUNCATE ON enterprises
    FOR EACH STATEMENT EXECUTE FUNCTION auth_changed();
