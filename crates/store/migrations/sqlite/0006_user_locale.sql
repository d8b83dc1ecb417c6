-- The language a user's emails are written in: a locale the server ships templates for
-- (`en`, `de`), set at registration from Accept-Language and changed in the profile. NULL
-- (every account made before this migration) means the default, `en`.
ALTER TABLE users ADD COLUMN locale TEXT;
