CREATE TABLE "authority_boundaries" (
	"gss_code" text PRIMARY KEY NOT NULL,
	"path" text NOT NULL,
	"loaded_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "service_changes" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"service_id" uuid NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"source" text NOT NULL,
	"actor_id" uuid,
	"changes" jsonb DEFAULT '[]'::jsonb NOT NULL
);
--> statement-breakpoint
CREATE TABLE "service_managers" (
	"service_id" uuid NOT NULL,
	"user_id" uuid NOT NULL,
	"added_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "service_managers_service_id_user_id_pk" PRIMARY KEY("service_id","user_id")
);
--> statement-breakpoint
CREATE TABLE "service_suggestions" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"service_id" uuid,
	"proposed" jsonb NOT NULL,
	"note" text DEFAULT '' NOT NULL,
	"suggester_id" uuid,
	"email" text,
	"locale" text DEFAULT 'en' NOT NULL,
	"token_hash" text,
	"status" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"decided_at" timestamp with time zone,
	"decided_by" uuid,
	"reason" text
);
--> statement-breakpoint
ALTER TABLE "services" ADD COLUMN "verification_reminded_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "authority_boundaries" ADD CONSTRAINT "authority_boundaries_gss_code_local_authorities_gss_code_fk" FOREIGN KEY ("gss_code") REFERENCES "public"."local_authorities"("gss_code") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_changes" ADD CONSTRAINT "service_changes_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_changes" ADD CONSTRAINT "service_changes_actor_id_users_id_fk" FOREIGN KEY ("actor_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_managers" ADD CONSTRAINT "service_managers_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_managers" ADD CONSTRAINT "service_managers_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_suggestions" ADD CONSTRAINT "service_suggestions_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_suggestions" ADD CONSTRAINT "service_suggestions_suggester_id_users_id_fk" FOREIGN KEY ("suggester_id") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_suggestions" ADD CONSTRAINT "service_suggestions_decided_by_users_id_fk" FOREIGN KEY ("decided_by") REFERENCES "public"."users"("id") ON DELETE set null ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "service_changes_service_idx" ON "service_changes" USING btree ("service_id","at");--> statement-breakpoint
CREATE INDEX "service_managers_user_idx" ON "service_managers" USING btree ("user_id");--> statement-breakpoint
CREATE INDEX "service_suggestions_status_idx" ON "service_suggestions" USING btree ("status","created_at");--> statement-breakpoint
CREATE UNIQUE INDEX "service_suggestions_token_key" ON "service_suggestions" USING btree ("token_hash");