-- Webhooks (issue 21), the second notification channel: an endpoint belongs to one unit (registered by
-- its admin) or one bureau (registered by its publisher or recommender). Whenever notifications are
-- written, each active endpoint of a recipient's unit or bureau gets one delivery per (endpoint,
-- occasion, subject) in the same transaction (webhook_deliveries_once), and a `webhook.deliver` job
-- POSTs it, signed with the endpoint's secret (and, for 24 hours after a rotation, the previous one).
-- A failed attempt is recorded by the trigger on jobs in definitions/15_webhooks.sql, with the job's
-- own state change; the delivered mark commits with the job's completion.

CREATE TABLE webhook_endpoints (
    id                          bigint      GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    unit_id                     bigint      REFERENCES units (id),
    bureau_id                   bigint      REFERENCES bureaus (id),
    url                         text        NOT NULL,
    active                      boolean     NOT NULL DEFAULT true,
    -- 32 random bytes, hex; HMAC-SHA256 keys, so kept as they are.
    secret                      text        NOT NULL,
    previous_secret             text,
    previous_secret_expires_at  timestamptz,
    created_by                  bigint      NOT NULL REFERENCES users (id),
    created_at                  timestamptz NOT NULL DEFAULT now(),
    deactivated_at              timestamptz,
    CONSTRAINT webhook_endpoints_owner CHECK (num_nonnulls(unit_id, bureau_id) = 1),
    CONSTRAINT webhook_endpoints_url CHECK (url ~ '^https?://[^/?#@[:space:]]+' AND char_length(url) <= 2000),
    CONSTRAINT webhook_endpoints_secret CHECK (secret ~ '^[0-9a-f]{64}$'),
    CONSTRAINT webhook_endpoints_previous_secret CHECK (
        (previous_secret IS NULL) = (previous_secret_expires_at IS NULL)
        AND (previous_secret IS NULL OR previous_secret ~ '^[0-9a-f]{64}$')),
    CONSTRAINT webhook_endpoints_deactivated CHECK (active = (deactivated_at IS NULL))
);

CREATE INDEX webhook_endpoints_unit ON webhook_endpoints (unit_id) WHERE unit_id IS NOT NULL AND active;
CREATE INDEX webhook_endpoints_bureau ON webhook_endpoints (bureau_id) WHERE bureau_id IS NOT NULL AND active;

CREATE TABLE webhook_deliveries (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    endpoint_id      bigint      NOT NULL REFERENCES webhook_endpoints (id),
    occasion         text        NOT NULL REFERENCES notification_occasions (occasion),
    subject          text        NOT NULL,
    title            text        NOT NULL,
    body             text        NOT NULL,
    link             text,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- pending → delivered (a 2xx) or failed (the last attempt failed).
    status           text        NOT NULL DEFAULT 'pending',
    attempts         integer     NOT NULL DEFAULT 0,
    last_status      integer,
    last_error       text,
    last_attempt_at  timestamptz,
    delivered_at     timestamptz,
    CONSTRAINT webhook_deliveries_once UNIQUE (endpoint_id, occasion, subject),
    CONSTRAINT webhook_deliveries_status CHECK (status IN ('pending', 'delivered', 'failed')),
    CONSTRAINT webhook_deliveries_delivered CHECK ((status = 'delivered') = (delivered_at IS NOT NULL)),
    CONSTRAINT webhook_deliveries_attempts CHECK (attempts >= 0)
);

-- The delivery log of an endpoint, newest first.
CREATE INDEX webhook_deliveries_log ON webhook_deliveries (endpoint_id, created_at DESC, id);
