CREATE TABLE "search_documents" (
	"key" text PRIMARY KEY NOT NULL,
	"source" text NOT NULL,
	"source_id" text NOT NULL,
	"kind" text NOT NULL,
	"type_label" text,
	"type_label_cy" text,
	"url" text NOT NULL,
	"language" text NOT NULL,
	"title" text NOT NULL,
	"title_cy" text,
	"summary" text,
	"summary_cy" text,
	"body" text DEFAULT '' NOT NULL,
	"body_cy" text,
	"authorities" text[] DEFAULT '{}' NOT NULL,
	"regions" text[] DEFAULT '{}' NOT NULL,
	"date" timestamp with time zone,
	"access" text NOT NULL,
	"words" tsvector NOT NULL,
	"rank_words" tsvector NOT NULL,
	"indexed_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE INDEX "search_documents_words_service" ON "search_documents" USING gin ("words") WHERE kind = 'service';--> statement-breakpoint
CREATE INDEX "search_documents_words_resource" ON "search_documents" USING gin ("words") WHERE kind = 'resource';--> statement-breakpoint
CREATE INDEX "search_documents_words_topic" ON "search_documents" USING gin ("words") WHERE kind = 'topic';--> statement-breakpoint
CREATE INDEX "search_documents_words_event" ON "search_documents" USING gin ("words") WHERE kind = 'event';--> statement-breakpoint
CREATE INDEX "search_documents_words_news" ON "search_documents" USING gin ("words") WHERE kind = 'news';--> statement-breakpoint
CREATE INDEX "search_documents_words_story" ON "search_documents" USING gin ("words") WHERE kind = 'story';--> statement-breakpoint
CREATE INDEX "search_documents_words_guideline" ON "search_documents" USING gin ("words") WHERE kind = 'guideline';--> statement-breakpoint
CREATE INDEX "search_documents_words_thread" ON "search_documents" USING gin ("words") WHERE kind = 'thread';--> statement-breakpoint
CREATE INDEX "search_documents_source" ON "search_documents" USING btree ("source","source_id");--> statement-breakpoint
CREATE INDEX "search_documents_url" ON "search_documents" USING btree ("url");--> statement-breakpoint
CREATE TABLE "search_words" (
	"word" text PRIMARY KEY NOT NULL,
	"documents" integer NOT NULL
);
--> statement-breakpoint
CREATE INDEX "search_words_trgm" ON "search_words" USING gin ("word" gin_trgm_ops);--> statement-breakpoint
CREATE TABLE "search_synonyms" (
	"id" serial PRIMARY KEY NOT NULL,
	"terms" text[] NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "search_best_bets" (
	"id" serial PRIMARY KEY NOT NULL,
	"query" text NOT NULL,
	"url" text NOT NULL,
	"title" text NOT NULL,
	"title_cy" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "search_best_bets_query_unique" UNIQUE("query")
);
--> statement-breakpoint
CREATE TABLE "search_query_stats" (
	"day" date NOT NULL,
	"query" text NOT NULL,
	"searches" integer DEFAULT 0 NOT NULL,
	"empty" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "search_query_stats_day_query_pk" PRIMARY KEY("day","query")
);
--> statement-breakpoint
CREATE TABLE "search_click_stats" (
	"day" date NOT NULL,
	"query" text NOT NULL,
	"url" text NOT NULL,
	"clicks" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "search_click_stats_day_query_url_pk" PRIMARY KEY("day","query","url")
);
--> statement-breakpoint
CREATE TABLE "search_sync" (
	"source" text PRIMARY KEY NOT NULL,
	"checked_at" timestamp with time zone NOT NULL
);
