-- Webhook secrets are stored sealed (AES-256-GCM) under a key kept outside the rows they are in
-- (JIEBANG_SECRETS_KEY or JIEBANG_SECRETS_KEY_FILE; else the embedded cluster's key file, else the database's
-- own key in server_secrets): `v1:<key id>:<base64 of nonce, ciphertext and tag>`, the key id naming the key
-- that sealed it (SecretsKeyring), so that keys can be changed later.
--
-- The key is not in the database, so this migration cannot seal the secrets stored in clear before it: the
-- first `serve` or `work` to start seals them (WebhookStore.sealSecrets), before any delivery. Until then
-- they stay as they were; from now on the database refuses a secret in clear in any row written
-- (NOT VALID: the check holds for every row inserted or updated, not yet for the rows left in clear).

ALTER TABLE webhook_endpoints
    DROP CONSTRAINT webhook_endpoints_secret,
    DROP CONSTRAINT webhook_endpoints_previous_secret;

ALTER TABLE webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_previous_secret CHECK ((previous_secret IS NULL) = (previous_secret_expires_at IS NULL));

ALTER TABLE webhook_endpoints
    ADD CONSTRAINT webhook_endpoints_secret_sealed CHECK (
        secret ~ '^v1:[0-9a-f]{8}:[A-Za-z0-9+/]{40,}={0,2}$'
        AND (previous_secret IS NULL OR previous_secret ~ '^v1:[0-9a-f]{8}:[A-Za-z0-9+/]{40,}={0,2}$')
    ) NOT VALID;
