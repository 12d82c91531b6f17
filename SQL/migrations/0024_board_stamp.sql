-- The board's pages read their filter choices (programmes, domains, industry chains of the published
-- challenges) once and keep them until a challenge changes: max(updated_at) says when, read from this
-- index in one probe, so a new domain shows in the filters at once without scanning the board per page.
CREATE INDEX challenges_updated_at ON challenges (updated_at);
