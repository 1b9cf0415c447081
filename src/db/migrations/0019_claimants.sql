-- Who claimed a job or a newsletter recipient: a number whose advisory lock the claiming
-- process holds for its whole life (Database.claimant, PostgreSQL only). When that process
-- dies its session ends, the lock goes, and another instance takes the claim back at once
-- instead of after the lease (db/client.ts claimantGone). Null on the embedded database.
ALTER TABLE "jobs" ADD COLUMN "claimed_by" integer;--> statement-breakpoint
ALTER TABLE "newsletter_deliveries" ADD COLUMN "claimed_by" integer;
