-- former checksum: 3d1cf3fae11f7a943fb9f52d813f1a19c07c3860e485de31fe2a45ec6f026752
-- Fewer statements per submission: bids_check stamps the revision and the time itself
-- (definitions/08_bids.sql), and bids_stamp goes: one PL/pgSQL call per update of a bid instead of two.
DROP TRIGGER IF EXISTS bids_stamp ON bids;
DROP FUNCTION IF EXISTS bids_stamp();
