-- Units: the time and revision of every edit.

CREATE OR REPLACE TRIGGER units_touch BEFORE UPDATE ON units FOR EACH ROW EXECUTE FUNCTION touch_updated_at();
CREATE OR REPLACE TRIGGER units_revision BEFORE UPDATE ON units FOR EACH ROW EXECUTE FUNCTION bump_revision();
