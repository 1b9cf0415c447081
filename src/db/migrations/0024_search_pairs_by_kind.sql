-- Word pairs by kind and access (#17), as the words are (0023). A phrase's pairs were one index
-- over every kind: counting a phrase of common words kind by kind built that whole bitmap once
-- for each kind (70,000 documents for "pre-birth" in the bench's index, ~7 ms each), beside the
-- kind's words bitmap. Each kind now reads only its own pairs. (0023 found the planner reading
-- whole kinds' word indexes with pairs indexes like these: the query then put a phrase's lists
-- of pairs in one OR inside each kind's arm, which no index takes as its condition. Each list is
-- now an arm of its own: repository.ts, matchQuery.)
DROP INDEX IF EXISTS "search_documents_pairs";--> statement-breakpoint
CREATE INDEX "search_documents_pairs_service_public" ON "search_documents" USING gin ("pairs") WHERE kind = 'service' AND access = 'public';--> statement-breakpoint
CREATE INDEX "search_documents_pairs_service_private" ON "search_documents" USING gin ("pairs") WHERE kind = 'service' AND access <> 'public';--> statement-breakpoint
CREATE INDEX "search_documents_pairs_resource_public" ON "search_documents" USING gin ("pairs") WHERE kind = 'resource' AND access = 'public';--> statement-breakpoint
CREATE INDEX "search_documents_pairs_resource_private" ON "search_documents" USING gin ("pairs") WHERE kind = 'resource' AND access <> 'public';--> statement-breakpoint
CREATE INDEX "search_documents_pairs_topic_public" ON "search_documents" USING gin ("pairs") WHERE kind = 'topic' AND access = 'public';--> statement-breakpoint
CREATE INDEX "search_documents_pairs_topic_private" ON "search_documents" USING gin ("pairs") WHERE kind = 'topic' AND access <> 'public';--> statement-breakpoint
CREATE INDEX "search_documents_pairs_event_public" ON "search_documents" USING gin ("pairs") WHERE kind = 'event' AND access = 'public';--> statement-breakpoint
CREATE INDEX "search_documents_pairs_event_private" ON "search_documents" USING gin ("pairs") WHERE kind = 'event' AND access <> 'public';--> statement-breakpoint
CREATE INDEX "search_documents_pairs_news_public" ON "search_documents" USING gin ("pairs") WHERE kind = 'news' AND access = 'public';--> statement-breakpoint
CREATE INDEX "search_documents_pairs_news_private" ON "search_documents" USING gin ("pairs") WHERE kind = 'news' AND access <> 'public';--> statement-breakpoint
CREATE INDEX "search_documents_pairs_story_public" ON "search_documents" USING gin ("pairs") WHERE kind = 'story' AND access = 'public';--> statement-breakpoint
CREATE INDEX "search_documents_pairs_story_private" ON "search_documents" USING gin ("pairs") WHERE kind = 'story' AND access <> 'public';--> statement-breakpoint
CREATE INDEX "search_documents_pairs_guideline_public" ON "search_documents" USING gin ("pairs") WHERE kind = 'guideline' AND access = 'public';--> statement-breakpoint
CREATE INDEX "search_documents_pairs_guideline_private" ON "search_documents" USING gin ("pairs") WHERE kind = 'guideline' AND access <> 'public';--> statement-breakpoint
CREATE INDEX "search_documents_pairs_thread_public" ON "search_documents" USING gin ("pairs") WHERE kind = 'thread' AND access = 'public';--> statement-breakpoint
CREATE INDEX "search_documents_pairs_thread_private" ON "search_documents" USING gin ("pairs") WHERE kind = 'thread' AND access <> 'public';--> statement-breakpoint
ANALYZE "search_documents";
