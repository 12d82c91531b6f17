-- API tokens carry scopes: 'read' (GET and HEAD) always, 'write' (every other method) when granted,
-- stored in this canonical order. Session tokens stand for the signed-in person and hold both. An API
-- token lives at most 366 days.
ALTER TABLE access_tokens ADD COLUMN scopes text[] NOT NULL DEFAULT ARRAY['read', 'write'];
ALTER TABLE access_tokens ADD CONSTRAINT access_tokens_scopes CHECK (scopes IN (ARRAY['read'], ARRAY['read', 'write']));
ALTER TABLE access_tokens ADD CONSTRAINT access_tokens_session_scopes CHECK (kind = 'api' OR scopes = ARRAY['read', 'write']);
ALTER TABLE access_tokens ADD CONSTRAINT access_tokens_api_lifetime
    CHECK (kind = 'session' OR expires_at <= created_at + interval '366 days');
ALTER TABLE access_tokens ADD CONSTRAINT access_tokens_label_length CHECK (label IS NULL OR char_length(label) BETWEEN 1 AND 100);
CREATE INDEX access_tokens_user_live_api ON access_tokens (user_id) WHERE kind = 'api' AND revoked_at IS NULL;
