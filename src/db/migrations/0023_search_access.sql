-- Search by who may find it (#17). A visitor's search filtered the index by access only after
-- reading each match from the table: counting "contact" for a visitor read every matching
-- members' discussion (tens of thousands) to keep none. Each kind's words index is now two,
-- one for what anybody may find ('public') and one for the rest (members, private groups), so
-- a visitor's search reads only the first, and a member's reads both and keeps what their
-- access allows. (The word-pairs index stays one: with a pairs index per kind, the planner read
-- whole kinds' word indexes for a phrase of common words instead, at over a second a search.)
DROP INDEX IF EXISTS "search_documents_words_service";--> statement-breakpoint
DROP INDEX IF EXISTS "search_documents_words_resource";--> statement-breakpoint
DROP INDEX IF EXISTS "search_documents_words_topic";--> statement-breakpoint
DROP INDEX IF EXISTS "search_documents_words_event";--> statement-breakpoint
DROP INDEX IF EXISTS "search_documents_words_news";--> statement-breakpoint
DROP INDEX IF EXISTS "search_documents_words_story";--> statement-breakpoint
DROP INDEX IF EXISTS "search_documents_words_guideline";--> statement-breakpoint
DROP INDEX IF EXISTS "search_documents_words_thread";--> statement-breakpoint
CREATE INDEX "search_documents_words_service_public" ON "search_documents" USING gin ("words") WHERE kind = 'service' AND access = 'public';--> statement-breakpoint
CREATE INDEX "search_documents_words_service_private" ON "search_documents" USING gin ("words") WHERE kind = 'service' AND access <> 'public';--> statement-breakpoint
CREATE INDEX "search_documents_words_resource_public" ON "search_documents" USING gin ("words") WHERE kind = 'resource' AND access = 'public';--> statement-breakpoint
CREATE INDEX "search_documents_words_resource_private" ON "search_documents" USING gin ("words") WHERE kind = 'resource' AND access <> 'public';--> statement-breakpoint
CREATE INDEX "search_documents_words_topic_public" ON "search_documents" USING gin ("words") WHERE kind = 'topic' AND access = 'public';--> statement-breakpoint
CREATE INDEX "search_documents_words_topic_private" ON "search_documents" USING gin ("words") WHERE kind = 'topic' AND access <> 'public';--> statement-breakpoint
CREATE INDEX "search_documents_words_event_public" ON "search_documents" USING gin ("words") WHERE kind = 'event' AND access = 'public';--> statement-breakpoint
CREATE INDEX "search_documents_words_event_private" ON "search_documents" USING gin ("words") WHERE kind = 'event' AND access <> 'public';--> statement-breakpoint
CREATE INDEX "search_documents_words_news_public" ON "search_documents" USING gin ("words") WHERE kind = 'news' AND access = 'public';--> statement-breakpoint
CREATE INDEX "search_documents_words_news_private" ON "search_documents" USING gin ("words") WHERE kind = 'news' AND access <> 'public';--> statement-breakpoint
CREATE INDEX "search_documents_words_story_public" ON "search_documents" USING gin ("words") WHERE kind = 'story' AND access = 'public';--> statement-breakpoint
CREATE INDEX "search_documents_words_story_private" ON "search_documents" USING gin ("words") WHERE kind = 'story' AND access <> 'public';--> statement-breakpoint
CREATE INDEX "search_documents_words_guideline_public" ON "search_documents" USING gin ("words") WHERE kind = 'guideline' AND access = 'public';--> statement-breakpoint
CREATE INDEX "search_documents_words_guideline_private" ON "search_documents" USING gin ("words") WHERE kind = 'guideline' AND access <> 'public';--> statement-breakpoint
CREATE INDEX "search_documents_words_thread_public" ON "search_documents" USING gin ("words") WHERE kind = 'thread' AND access = 'public';--> statement-breakpoint
CREATE INDEX "search_documents_words_thread_private" ON "search_documents" USING gin ("words") WHERE kind = 'thread' AND access <> 'public';--> statement-breakpoint
-- A query of nothing but kind words ("news", "guidelines") lists the kinds newest first, over
-- all their documents: from this index, not by sorting a first 2,000 found. Its key is the
-- kind and the access together (a "shelf"), an expression only such a browse names: an index
-- on the kind itself was chosen by searches for words as well, and made them slower.
CREATE INDEX "search_documents_shelf_date" ON "search_documents" USING btree (("kind" || ':' || "access"),"date" DESC NULLS LAST);--> statement-breakpoint
ANALYZE "search_documents";
