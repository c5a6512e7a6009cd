-- An attempt nobody submitted by its deadline plus grace is closed as EXPIRED (docs/decisions/0840).
ALTER TYPE "AttemptStatus" ADD VALUE 'EXPIRED';

-- What each question earned (score.calculated), for the player's review (docs/decisions/0841).
ALTER TABLE "Attempt" ADD COLUMN "questionResults" JSONB;

-- The expiry sweep reads open attempts by deadline (hand-written: Prisma's schema has no partial indexes).
CREATE INDEX "Attempt_open_by_deadline" ON "Attempt"("deadlineAt") WHERE "status" = 'IN_PROGRESS';
