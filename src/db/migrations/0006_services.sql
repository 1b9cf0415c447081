CREATE TABLE "local_authorities" (
	"gss_code" text PRIMARY KEY NOT NULL,
	"name" text NOT NULL,
	"name_cy" text,
	"kind" text NOT NULL,
	"region_code" text,
	"region_name" text NOT NULL,
	"nation" text NOT NULL,
	"lat" double precision NOT NULL,
	"lng" double precision NOT NULL,
	"list_date" date NOT NULL,
	"retired_on" date
);
--> statement-breakpoint
CREATE TABLE "locations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"address_1" text DEFAULT '' NOT NULL,
	"city" text DEFAULT '' NOT NULL,
	"postal_code" text DEFAULT '' NOT NULL,
	"lat" double precision,
	"lng" double precision
);
--> statement-breakpoint
CREATE TABLE "organisations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"name" text NOT NULL,
	"description" text DEFAULT '' NOT NULL,
	"email" text,
	"website" text,
	"is_demo" boolean DEFAULT false NOT NULL
);
--> statement-breakpoint
CREATE TABLE "service_areas" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"service_id" uuid NOT NULL,
	"gss_code" text NOT NULL
);
--> statement-breakpoint
CREATE TABLE "service_at_locations" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"service_id" uuid NOT NULL,
	"location_id" uuid NOT NULL
);
--> statement-breakpoint
CREATE TABLE "service_contacts" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"service_id" uuid NOT NULL,
	"name" text DEFAULT '' NOT NULL,
	"title" text DEFAULT '' NOT NULL,
	"phone" text,
	"email" text
);
--> statement-breakpoint
CREATE TABLE "services" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"slug" text NOT NULL,
	"organisation_id" uuid NOT NULL,
	"name" text NOT NULL,
	"name_cy" text,
	"description" text DEFAULT '' NOT NULL,
	"description_cy" text,
	"url" text,
	"email" text,
	"status" text DEFAULT 'active' NOT NULL,
	"model" text NOT NULL,
	"offers" text[] DEFAULT '{}'::text[] NOT NULL,
	"serves" text[] DEFAULT '{}'::text[] NOT NULL,
	"referral_route" text DEFAULT '' NOT NULL,
	"funding" text DEFAULT '' NOT NULL,
	"year_started" integer,
	"last_verified" date,
	"is_demo" boolean DEFAULT false NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"updated_at" timestamp with time zone DEFAULT now() NOT NULL
);
--> statement-breakpoint
CREATE TABLE "taxonomy_terms" (
	"id" uuid PRIMARY KEY DEFAULT gen_random_uuid() NOT NULL,
	"taxonomy" text NOT NULL,
	"code" text NOT NULL,
	"name" text NOT NULL,
	"name_cy" text NOT NULL
);
--> statement-breakpoint
ALTER TABLE "service_areas" ADD CONSTRAINT "service_areas_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_areas" ADD CONSTRAINT "service_areas_gss_code_local_authorities_gss_code_fk" FOREIGN KEY ("gss_code") REFERENCES "public"."local_authorities"("gss_code") ON DELETE no action ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_at_locations" ADD CONSTRAINT "service_at_locations_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_at_locations" ADD CONSTRAINT "service_at_locations_location_id_locations_id_fk" FOREIGN KEY ("location_id") REFERENCES "public"."locations"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "service_contacts" ADD CONSTRAINT "service_contacts_service_id_services_id_fk" FOREIGN KEY ("service_id") REFERENCES "public"."services"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
ALTER TABLE "services" ADD CONSTRAINT "services_organisation_id_organisations_id_fk" FOREIGN KEY ("organisation_id") REFERENCES "public"."organisations"("id") ON DELETE restrict ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "local_authorities_current_idx" ON "local_authorities" USING btree ("retired_on","nation","region_name");--> statement-breakpoint
CREATE UNIQUE INDEX "service_areas_key" ON "service_areas" USING btree ("service_id","gss_code");--> statement-breakpoint
CREATE INDEX "service_areas_gss_idx" ON "service_areas" USING btree ("gss_code");--> statement-breakpoint
CREATE INDEX "service_at_locations_service_idx" ON "service_at_locations" USING btree ("service_id");--> statement-breakpoint
CREATE UNIQUE INDEX "services_slug_key" ON "services" USING btree ("slug");--> statement-breakpoint
CREATE INDEX "services_model_idx" ON "services" USING btree ("status","model");--> statement-breakpoint
CREATE INDEX "services_offers_idx" ON "services" USING gin ("offers");--> statement-breakpoint
CREATE UNIQUE INDEX "taxonomy_terms_key" ON "taxonomy_terms" USING btree ("taxonomy","code");