-- When an event was published (the newsletter's digest picks new events by it, not by when the
-- draft was made). Events already public before this column existed count as published when
-- they were created (the digest's old rule), so none is announced again.
ALTER TABLE "events" ADD COLUMN "published_at" timestamp with time zone;--> statement-breakpoint
UPDATE "events" SET "published_at" = "created_at" WHERE "status" <> 'draft';--> statement-breakpoint
CREATE INDEX "events_published_idx" ON "events" USING btree ("published_at");
