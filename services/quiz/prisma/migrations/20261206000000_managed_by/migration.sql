-- Quizzes reconciled from a Quiz custom resource (services/operator): "<namespace>/<name>" of the
-- resource. Unique, so a retried create of the same resource finds the quiz it made before.
ALTER TABLE "Quiz" ADD COLUMN "managedBy" TEXT;
CREATE UNIQUE INDEX "Quiz_managedBy_key" ON "Quiz"("managedBy");
