-- Faster board queries, measured over 50,000 challenges (Benchmarks/BoardBenchmark).
--
-- A common keyword (技术, in most challenges) or no keyword at all: walking the
-- board in deadline order, within a domain or not, and stopping at the page's
-- end beats collecting every match and sorting it.
CREATE INDEX challenges_board_order ON challenges (application_deadline, id) WHERE status <> 'draft';
CREATE INDEX challenges_board_domain ON challenges (domain, application_deadline, id) WHERE status <> 'draft';

-- A rare keyword with a domain filter: one GIN index over both narrows to the
-- matches of that domain before any row is read (btree_gin gives text its GIN
-- operators). It also answers keyword searches without a domain, so the gram
-- index of 0005 goes.
CREATE INDEX challenges_domain_grams ON challenges USING gin (domain, grams) WITH (fastupdate = off)
    WHERE status <> 'draft';
DROP INDEX challenges_grams;
