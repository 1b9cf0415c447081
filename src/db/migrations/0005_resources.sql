CREATE TABLE "resource_files" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"resource_id" uuid NOT NULL,
	"kind" text DEFAULT 'main' NOT NULL,
	"storage_key" text NOT NULL,
	"filename" text NOT NULL,
	"content_type" text NOT NULL,
	"size" integer NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "resources" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"title" text NOT NULL,
	"summary" text NOT NULL,
	"body" text DEFAULT '' NOT NULL,
	"body_html" text DEFAULT '' NOT NULL,
	"type" text NOT NULL,
	"topics" text[] DEFAULT '{}'::text[] NOT NULL,
	"audiences" text[] DEFAULT '{}'::text[] NOT NULL,
	"length_minutes" integer,
	"length_band" text GENERATED ALWAYS AS (CASE WHEN length_minutes IS NULL THEN NULL WHEN length_minutes < 10 THEN 'under-10' WHEN length_minutes <= 30 THEN '10-30' WHEN length_minutes <= 60 THEN '30-60' ELSE 'over-60' END) STORED,
	"published_on" date,
	"authors" text DEFAULT '' NOT NULL,
	"organisation" text DEFAULT '' NOT NULL,
	"licence" text DEFAULT '' NOT NULL,
	"by_parents" boolean DEFAULT false NOT NULL,
	"language" text DEFAULT 'en' NOT NULL,
	"external_url" text,
	"status" text DEFAULT 'draft' NOT NULL,
	"submitted_by" uuid,
	"decline_reason" text,
	"is_demo" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL,
	"first_published_at" timestamp with time zone,
	"search" "tsvector" GENERATED ALWAYS AS (setweight(to_tsvector(CASE WHEN language = 'cy' THEN 'simple'::regconfig ELSE 'english'::regconfig END, coalesce(title, '')), 'A') || setweight(to_tsvector(CASE WHEN language = 'cy' THEN 'simple'::regconfig ELSE 'english'::regconfig END, coalesce(summary, '')), 'B') || setweight(to_tsvector(CASE WHEN language = 'cy' THEN 'simple'::regconfig ELSE 'english'::regconfig END, coalesce(body, '') || ' ' || coalesce(authors, '') || ' ' || coalesce(organisation, '')), 'C')) STORED
);
--> statement-breakpoint
CREATE TABLE "topic_section_items" (
	"section_id" uuid NOT NULL,
	"resource_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"note" text DEFAULT '' NOT NULL,
	CONSTRAINT "topic_section_items_section_id_resource_id_pk" PRIMARY KEY("section_id","resource_id")
);
--> statement-breakpoint
CREATE TABLE "topic_sections" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"topic_id" uuid NOT NULL,
	"position" integer NOT NULL,
	"heading" text NOT NULL,
	"note" text DEFAULT '' NOT NULL
);
--> statement-breakpoint
CREATE TABLE "topics" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"name" text NOT NULL,
	"name_cy" text,
	"intro" text DEFAULT '' NOT NULL,
	"intro_html" text DEFAULT '' NOT NULL,
	"position" integer DEFAULT 0 NOT NULL,
	"is_demo" boolean DEFAULT false NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
ALTER TABLE "resource_files" ADD CONSTRAINT "resource_files_resource_id_resources_id_fk" FOREIGN KEY ("resource_id") REFERENCES "public"."resources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "resources" ADD CONSTRAINT "resources_submitted_by_users_id_fk" FOREIGN KEY ("submitted_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "topic_section_items" ADD CONSTRAINT "topic_section_items_section_id_topic_sections_id_fk" FOREIGN KEY ("section_id") REFERENCES "public"."topic_sections"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "topic_section_items" ADD CONSTRAINT "topic_section_items_resource_id_resources_id_fk" FOREIGN KEY ("resource_id") REFERENCES "public"."resources"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "topic_sections" ADD CONSTRAINT "topic_sections_topic_id_topics_id_fk" FOREIGN KEY ("topic_id") REFERENCES "public"."topics"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "resource_files_resource_idx" ON "resource_files" USING btree ("resource_id");--> statement-breakpoint
CREATE UNIQUE INDEX "resources_slug_key" ON "resources" USING btree ("slug");--> statement-breakpoint
CREATE INDEX "resources_search_idx" ON "resources" USING gin ("search");--> statement-breakpoint
CREATE INDEX "resources_topics_idx" ON "resources" USING gin ("topics");--> statement-breakpoint
CREATE INDEX "resources_status_published_idx" ON "resources" USING btree ("status","published_on" DESC NULLS LAST);--> statement-breakpoint
CREATE INDEX "resources_type_idx" ON "resources" USING btree ("status","type");--> statement-breakpoint
CREATE INDEX "resources_submitted_by_idx" ON "resources" USING btree ("submitted_by");--> statement-breakpoint
CREATE INDEX "topic_sections_topic_idx" ON "topic_sections" USING btree ("topic_id","position");--> statement-breakpoint
CREATE UNIQUE INDEX "topics_slug_key" ON "topics" USING btree ("slug");