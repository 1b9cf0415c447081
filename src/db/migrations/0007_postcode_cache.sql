CREATE TABLE "postcode_cache" (
	"postcode" text PRIMARY KEY NOT NULL,
	"lat" double precision,
	"lng" double precision,
	"fetched_at" timestamp with time zone DEFAULT now() NOT NULL
);
