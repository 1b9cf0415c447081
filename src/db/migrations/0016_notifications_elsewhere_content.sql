-- Community notifications about things elsewhere on the site (a comment on one's article, a reply
-- to one's comment): no space, thread or post, but a title and a link on this site instead.
ALTER TABLE "community_notifications" ALTER COLUMN "space_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "community_notifications" ALTER COLUMN "thread_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "community_notifications" ALTER COLUMN "post_id" DROP NOT NULL;--> statement-breakpoint
ALTER TABLE "community_notifications" ADD COLUMN "title" text;--> statement-breakpoint
ALTER TABLE "community_notifications" ADD COLUMN "link" text;--> statement-breakpoint
ALTER TABLE "community_notifications" ADD CONSTRAINT "community_notifications_about_check" CHECK (("space_id" IS NOT NULL AND "thread_id" IS NOT NULL AND "post_id" IS NOT NULL) OR ("title" IS NOT NULL AND "link" IS NOT NULL AND "link" LIKE '/%'));
