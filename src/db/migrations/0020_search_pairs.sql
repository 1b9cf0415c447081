-- Word pairs (#17): each document also keeps the pairs of its words that stand next to each
-- other, so that a phrase ("adoption workers", or a hyphenated word) is answered from an index
-- instead of by reading every document that has all of its words (GIN keeps no positions).
-- A pair is the two lexemes with a space between, taken from the document's own tsvector: the
-- words at each position and at the next position that holds a word. See features/search/pairs.ts.
CREATE FUNCTION search_word_pairs(v tsvector) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
  WITH t AS (SELECT u.lexeme, p FROM unnest(v) u, unnest(u.positions) p),
       n AS (SELECT p, lead(p) OVER (ORDER BY p) AS q FROM (SELECT DISTINCT p FROM t) s)
  SELECT coalesce(array_agg(DISTINCT a.lexeme || ' ' || b.lexeme), '{}')
  FROM t a JOIN n ON n.p = a.p JOIN t b ON b.p = n.q
$$;--> statement-breakpoint
ALTER TABLE "search_documents" ADD COLUMN "pairs" text[] GENERATED ALWAYS AS (search_word_pairs("words")) STORED;--> statement-breakpoint
CREATE INDEX "search_documents_pairs" ON "search_documents" USING gin ("pairs");--> statement-breakpoint
-- The planner needs to know how rare each pair is to prefer this index for a phrase.
ANALYZE "search_documents";
