-- A plan's revision (#14): one number that goes up, in the same transaction, with every
-- change to the plan or anything of it (members, invitations, rounds, ratings, evidence,
-- actions), whoever makes it and however (a service, a cascade from a deleted account, a
-- script). A page drawn from a plan is kept under its revision, so a kept page is used only
-- while nothing it was drawn from has changed, on any instance. Triggers, not calls in each
-- repository method: a write that forgot to call would leave pages stale, and a trigger
-- cannot be forgotten. One UPDATE of the plan a statement, however many rows it changed (a
-- new round copies 240 ratings): statement triggers with the rows changed as a table.
ALTER TABLE "plans" ADD COLUMN "revision" integer DEFAULT 0 NOT NULL;
--> statement-breakpoint
CREATE FUNCTION "plans_revise_self"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  -- A change to the plan's own row that did not set the revision itself.
  IF NEW.revision = OLD.revision THEN
    NEW.revision := OLD.revision + 1;
  END IF;
  RETURN NEW;
END $$;
--> statement-breakpoint
CREATE TRIGGER "plans_revise_self" BEFORE UPDATE ON "plans"
  FOR EACH ROW EXECUTE FUNCTION "plans_revise_self"();
--> statement-breakpoint
-- Rows of the tables that name their plan (plan_id).
CREATE FUNCTION "plans_revise_by_plan_id"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "plans" SET "revision" = "revision" + 1
    WHERE "id" IN (SELECT DISTINCT "plan_id" FROM "changed");
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Ratings name their round.
CREATE FUNCTION "plans_revise_by_round_id"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "plans" SET "revision" = "revision" + 1
    WHERE "id" IN (SELECT r."plan_id" FROM "plan_rounds" r
                   WHERE r."id" IN (SELECT DISTINCT "round_id" FROM "changed"));
  RETURN NULL;
END $$;
--> statement-breakpoint
-- Evidence names its rating.
CREATE FUNCTION "plans_revise_by_rating_id"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE "plans" SET "revision" = "revision" + 1
    WHERE "id" IN (SELECT r."plan_id" FROM "plan_rounds" r
                   JOIN "plan_ratings" g ON g."round_id" = r."id"
                   WHERE g."id" IN (SELECT DISTINCT "rating_id" FROM "changed"));
  RETURN NULL;
END $$;
--> statement-breakpoint
-- A trigger with a table of changed rows takes one event: three for each table.
CREATE TRIGGER "plan_members_insert" AFTER INSERT ON "plan_members" REFERENCING NEW TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_plan_id"();
--> statement-breakpoint
CREATE TRIGGER "plan_members_update" AFTER UPDATE ON "plan_members" REFERENCING NEW TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_plan_id"();
--> statement-breakpoint
CREATE TRIGGER "plan_members_delete" AFTER DELETE ON "plan_members" REFERENCING OLD TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_plan_id"();
--> statement-breakpoint
CREATE TRIGGER "plan_invitations_insert" AFTER INSERT ON "plan_invitations" REFERENCING NEW TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_plan_id"();
--> statement-breakpoint
CREATE TRIGGER "plan_invitations_update" AFTER UPDATE ON "plan_invitations" REFERENCING NEW TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_plan_id"();
--> statement-breakpoint
CREATE TRIGGER "plan_invitations_delete" AFTER DELETE ON "plan_invitations" REFERENCING OLD TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_plan_id"();
--> statement-breakpoint
CREATE TRIGGER "plan_rounds_insert" AFTER INSERT ON "plan_rounds" REFERENCING NEW TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_plan_id"();
--> statement-breakpoint
CREATE TRIGGER "plan_rounds_update" AFTER UPDATE ON "plan_rounds" REFERENCING NEW TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_plan_id"();
--> statement-breakpoint
CREATE TRIGGER "plan_rounds_delete" AFTER DELETE ON "plan_rounds" REFERENCING OLD TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_plan_id"();
--> statement-breakpoint
CREATE TRIGGER "plan_actions_insert" AFTER INSERT ON "plan_actions" REFERENCING NEW TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_plan_id"();
--> statement-breakpoint
CREATE TRIGGER "plan_actions_update" AFTER UPDATE ON "plan_actions" REFERENCING NEW TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_plan_id"();
--> statement-breakpoint
CREATE TRIGGER "plan_actions_delete" AFTER DELETE ON "plan_actions" REFERENCING OLD TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_plan_id"();
--> statement-breakpoint
CREATE TRIGGER "plan_ratings_insert" AFTER INSERT ON "plan_ratings" REFERENCING NEW TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_round_id"();
--> statement-breakpoint
CREATE TRIGGER "plan_ratings_update" AFTER UPDATE ON "plan_ratings" REFERENCING NEW TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_round_id"();
--> statement-breakpoint
CREATE TRIGGER "plan_ratings_delete" AFTER DELETE ON "plan_ratings" REFERENCING OLD TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_round_id"();
--> statement-breakpoint
CREATE TRIGGER "plan_evidence_insert" AFTER INSERT ON "plan_evidence" REFERENCING NEW TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_rating_id"();
--> statement-breakpoint
CREATE TRIGGER "plan_evidence_update" AFTER UPDATE ON "plan_evidence" REFERENCING NEW TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_rating_id"();
--> statement-breakpoint
CREATE TRIGGER "plan_evidence_delete" AFTER DELETE ON "plan_evidence" REFERENCING OLD TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_rating_id"();
--> statement-breakpoint
-- Feedback to the publisher names the plan it came from (or none, once the plan is gone).
CREATE TRIGGER "guideline_feedback_insert" AFTER INSERT ON "guideline_feedback" REFERENCING NEW TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_plan_id"();
--> statement-breakpoint
CREATE TRIGGER "guideline_feedback_update" AFTER UPDATE ON "guideline_feedback" REFERENCING NEW TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_plan_id"();
--> statement-breakpoint
CREATE TRIGGER "guideline_feedback_delete" AFTER DELETE ON "guideline_feedback" REFERENCING OLD TABLE AS "changed" FOR EACH STATEMENT EXECUTE FUNCTION "plans_revise_by_plan_id"();
