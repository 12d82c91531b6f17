-- 需求库每半年更新 (seed 004 千校万企): every half year a demand's unit confirms it, changes it or closes it. A
-- demand not confirmed for six months lapses (失效); its unit may confirm it again, which reopens it. Closing is
-- final. The `reminders.demand-refresh` scan tells the unit thirty days before, and lapses what is due,
-- each once (definitions/21_demand_refresh.sql holds the transitions).
ALTER TABLE demands
    ADD COLUMN status text NOT NULL DEFAULT 'open',
    ADD COLUMN confirmed_at timestamptz NOT NULL DEFAULT now(),
    ADD COLUMN closed_at timestamptz,
    ADD COLUMN lapsed_at timestamptz,
    ADD CONSTRAINT demands_status_known CHECK (status IN ('open', 'closed', 'lapsed')),
    ADD CONSTRAINT demands_closed_at CHECK ((status = 'closed') = (closed_at IS NOT NULL)),
    ADD CONSTRAINT demands_lapsed_at CHECK ((status = 'lapsed') = (lapsed_at IS NOT NULL));

-- A demand filed before the refresh existed counts as confirmed when filed, but gets at least a month's notice.
UPDATE demands SET confirmed_at = greatest(created_at, now() - interval '5 months');

CREATE INDEX demands_open_confirmed ON demands (confirmed_at) WHERE status = 'open';

INSERT INTO notification_occasions (occasion, mandatory, description) VALUES
    ('demand.refresh_due', false, '需求将在30天内到期：请确认、修改或关闭'),
    ('demand.lapsed', true, '需求半年未确认，已失效');
