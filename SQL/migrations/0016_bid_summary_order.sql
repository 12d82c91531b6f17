-- The summary table's pages (BidSummary.page: keyset on region and bid id, 1,000 rows a page) read
-- an ordered index range that stops after the page, instead of sorting what is left of the
-- programme for every page.
CREATE INDEX bids_summary_order ON bids (programme_id, region_code, id) WHERE status NOT IN ('draft', 'withdrawn');
