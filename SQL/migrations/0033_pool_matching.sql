-- Matching the pools (seeds 000 and 004): a demand's text and a result's, as the board's grams (text_grams: the
-- distinct characters and character pairs), so the matching reads the texts' Chinese bigram overlap with the
-- board's machinery; GIN indexes find the candidates that share one.
ALTER TABLE demands ADD COLUMN grams text[] GENERATED ALWAYS AS (text_grams(industry_chain || ' ' || need)) STORED;
ALTER TABLE results ADD COLUMN grams text[] GENERATED ALWAYS AS (text_grams(title || ' ' || summary)) STORED;
CREATE INDEX demands_grams ON demands USING gin (grams) WHERE status = 'open';
CREATE INDEX results_grams ON results USING gin (grams);
