-- E-mail (issue 21), the third notification channel: a user may give an address (`users.email`), and
-- every notification written to a user with an address gets one message in the same transaction
-- (email_messages_once: one per notification, which is itself one per recipient, occasion and
-- subject), sent by an `email.send` job through the configured SMTP server. A failed attempt is
-- recorded by the trigger on jobs in definitions/16_email.sql with the job's own state change; a
-- permanent refusal (5xx to the recipient or the message) marks the message failed at once.

-- The same rule as `MailAddress` in Swift: a dot-atom local part of at most 64 characters at a domain
-- of two or more DNS labels, ASCII, at most 254 characters. Nothing in it can break an SMTP command line.
ALTER TABLE users ADD COLUMN email text;
ALTER TABLE users ADD CONSTRAINT users_email_format CHECK (
    email IS NULL OR (
        char_length(email) <= 254
        AND position('@' IN email) BETWEEN 2 AND 65
        AND email ~ '^[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&''*+/=?^_`{|}~-]+)*@[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$'));

CREATE TABLE email_messages (
    id               uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
    notification_id  bigint      NOT NULL REFERENCES notifications (id),
    -- The address when the message was written: a later change of address does not redirect it.
    address          text        NOT NULL,
    created_at       timestamptz NOT NULL DEFAULT now(),
    -- pending → sent (the server accepted it) or failed (refused for good, or the last attempt failed).
    status           text        NOT NULL DEFAULT 'pending',
    attempts         integer     NOT NULL DEFAULT 0,
    last_reply_code  integer,
    last_error       text,
    last_attempt_at  timestamptz,
    sent_at          timestamptz,
    CONSTRAINT email_messages_once UNIQUE (notification_id),
    CONSTRAINT email_messages_status CHECK (status IN ('pending', 'sent', 'failed')),
    CONSTRAINT email_messages_sent CHECK ((status = 'sent') = (sent_at IS NOT NULL)),
    CONSTRAINT email_messages_attempts CHECK (attempts >= 0),
    CONSTRAINT email_messages_reply_code CHECK (last_reply_code IS NULL OR last_reply_code BETWEEN 200 AND 599)
);

-- The operators' log, newest notification first: whole (email_messages_once) or by status.
CREATE INDEX email_messages_status_log ON email_messages (status, notification_id DESC);
