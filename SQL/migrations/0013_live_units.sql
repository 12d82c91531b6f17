-- former checksum: fcd0a580aa02092b3b9ffaf9a34b2b1b628b1993b73eb845e47781d91c9ebd83
-- 每个单位限申请一项揭榜任务, enforced by a narrow table instead of a flag on the members.
--
-- Until now each member row carried a `live` flag, and a partial unique index over the flagged rows
-- refused a unit's second live bid. A submission therefore rewrote every member row of its bid: wide
-- rows, and (the flag being in the index's predicate) never a HOT update, so each one wrote new
-- entries in all four indexes of bid_members, after a PL/pgSQL check per row and advisory locks to
-- keep two submissions sharing units from deadlocking (0012).
--
-- Now bid_live_units holds one row per unit that counts in a live bid (the lead and the accepted
-- partners) of a programme whose units may be in one live bid only, and its primary key is the rule:
-- (programme_id, unit_id) once. A bid that becomes live inserts its units, in unit order, so two
-- submissions sharing units queue at the first shared one and never hold what the other waits for; a
-- bid that stops being live (withdrawn, declined) deletes them. A change of the consortium of a live
-- bid (one returned for revision) moves its own row. The member rows are no longer touched.
--
-- The table is written only by the triggers of definitions/08_bids.sql: hand-written SQL that inserts,
-- updates or deletes its rows directly is refused (bid_live_units_maintained), so nobody can free a
-- unit by deleting a row.

DROP TRIGGER IF EXISTS bids_sync_members ON bids;
DROP FUNCTION IF EXISTS bids_sync_members();

CREATE TABLE bid_live_units (
    programme_id  bigint NOT NULL,
    unit_id       bigint NOT NULL,
    bid_id        bigint NOT NULL
);
INSERT INTO bid_live_units (programme_id, unit_id, bid_id)
SELECT programme_id, unit_id, bid_id FROM bid_members WHERE live AND exclusive;

-- The rule keeps its name, which the API maps to its 409.
DROP INDEX bid_members_one_live_bid;
ALTER TABLE bid_live_units ADD CONSTRAINT bid_members_one_live_bid PRIMARY KEY (programme_id, unit_id);
ALTER TABLE bid_members DROP COLUMN live;
