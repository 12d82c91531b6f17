-- Technology demands (技术需求): the time and revision of every edit.

CREATE OR REPLACE TRIGGER demands_revision BEFORE UPDATE ON demands FOR EACH ROW EXECUTE FUNCTION bump_revision();
CREATE OR REPLACE TRIGGER demands_touch BEFORE UPDATE ON demands FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
