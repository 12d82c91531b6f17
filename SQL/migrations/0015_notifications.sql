-- Notifications (通知): an in-app inbox per user, written in the transaction of the event that
-- causes it (so a rolled-back event notifies nobody), and by the reminder scans.
--
-- Each occasion is a row of notification_occasions, mandatory or optional. A user may mute an
-- optional occasion, never a mandatory one (notification_mutes_optional, definitions/09_notifications.sql).
-- Each (recipient, occasion, subject) is one notification: notifications_once makes a scan run
-- twice, on two machines at once or after an outage, send nothing twice.

CREATE TABLE notification_occasions (
    occasion    text    PRIMARY KEY,
    mandatory   boolean NOT NULL,
    description text    NOT NULL,
    CONSTRAINT notification_occasions_format CHECK (occasion ~ '^[a-z][a-z0-9_]*(\.[a-z0-9_]+)*$' AND char_length(occasion) <= 64)
);

INSERT INTO notification_occasions (occasion, mandatory, description) VALUES
    ('application_deadline.t7', false, '揭榜申请截止前7天：仍有草稿或退回修改的申请'),
    ('application_deadline.t1', false, '揭榜申请截止前1天：仍有草稿或退回修改的申请'),
    ('bid.returned', true, '申请被推荐单位退回修改'),
    ('bid.invited', true, '单位被邀请加入联合体');

CREATE TABLE notifications (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    user_id     bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    occasion    text        NOT NULL REFERENCES notification_occasions (occasion),
    -- What it is about, for example `challenge:12` or `bid:34:v2`.
    subject     text        NOT NULL,
    title       text        NOT NULL,
    body        text        NOT NULL,
    link        text,
    created_at  timestamptz NOT NULL DEFAULT now(),
    read_at     timestamptz,
    CONSTRAINT notifications_once UNIQUE (user_id, occasion, subject),
    CONSTRAINT notifications_subject_length CHECK (char_length(subject) BETWEEN 1 AND 200),
    CONSTRAINT notifications_title_length CHECK (char_length(title) BETWEEN 1 AND 400),
    CONSTRAINT notifications_body_length CHECK (char_length(body) BETWEEN 1 AND 20000),
    CONSTRAINT notifications_link_path CHECK (link IS NULL OR (link ~ '^/v1/' AND char_length(link) <= 500)),
    CONSTRAINT notifications_read_after_created CHECK (read_at IS NULL OR read_at >= created_at)
);

-- The inbox, newest first, and its unread count.
CREATE INDEX notifications_inbox ON notifications (user_id, id);
CREATE INDEX notifications_unread ON notifications (user_id) WHERE read_at IS NULL;

CREATE TABLE notification_mutes (
    user_id   bigint      NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    occasion  text        NOT NULL REFERENCES notification_occasions (occasion),
    muted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, occasion)
);

-- The reminder scan for application deadlines reads published challenges by deadline.
CREATE INDEX challenges_published_deadline ON challenges (application_deadline) WHERE status = 'published';
