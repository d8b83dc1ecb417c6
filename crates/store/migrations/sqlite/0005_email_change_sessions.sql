-- An email change can sign out the account's other sessions once its link is followed,
-- as a password change does. The link's row remembers the session that asked for it (the
-- one that stays signed in); NULL signs nobody out. Other purposes leave it NULL.
ALTER TABLE one_time_tokens ADD COLUMN keep_session TEXT;
