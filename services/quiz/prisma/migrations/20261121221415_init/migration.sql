-- CreateSchema
CREATE SCHEMA IF NOT EXISTS "public";

-- CreateEnum
CREATE TYPE "QuizStatus" AS ENUM ('draft', 'published', 'archived');

-- CreateEnum
CREATE TYPE "VersionStatus" AS ENUM ('draft', 'published', 'superseded', 'archived');

-- CreateEnum
CREATE TYPE "Difficulty" AS ENUM ('easy', 'medium', 'hard');

-- CreateEnum
CREATE TYPE "AttemptStatus" AS ENUM ('IN_PROGRESS', 'SUBMITTED', 'SCORED', 'FAILED');

-- CreateTable
CREATE TABLE "Quiz" (
    "id" UUID NOT NULL,
    "authorId" UUID NOT NULL,
    "status" "QuizStatus" NOT NULL DEFAULT 'draft',
    "publishedVersion" INTEGER,
    "draftVersion" INTEGER,
    "latestVersion" INTEGER NOT NULL,
    "leaderboardTop" JSONB,
    "leaderboardUpdatedAt" TIMESTAMPTZ(3),
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "archivedAt" TIMESTAMPTZ(3),

    CONSTRAINT "Quiz_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "QuizVersion" (
    "id" UUID NOT NULL,
    "quizId" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "status" "VersionStatus" NOT NULL DEFAULT 'draft',
    "title" TEXT NOT NULL,
    "description" TEXT NOT NULL,
    "tags" TEXT[],
    "difficulty" "Difficulty" NOT NULL,
    "timeLimitSeconds" INTEGER NOT NULL,
    "questions" JSONB NOT NULL,
    "questionCount" INTEGER NOT NULL,
    "maxScore" INTEGER NOT NULL,
    -- Hand-edited: a generated column (Prisma can only declare it as a default, and its diff ignores the difference).
    "searchVector" tsvector GENERATED ALWAYS AS (setweight(to_tsvector('english'::regconfig, title), 'A'::"char") || setweight(to_tsvector('english'::regconfig, description), 'B'::"char")) STORED,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,
    "publishedAt" TIMESTAMPTZ(3),
    "supersededAt" TIMESTAMPTZ(3),

    CONSTRAINT "QuizVersion_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "Attempt" (
    "id" UUID NOT NULL,
    "quizId" UUID NOT NULL,
    "quizVersionId" UUID NOT NULL,
    "version" INTEGER NOT NULL,
    "userId" UUID NOT NULL,
    "status" "AttemptStatus" NOT NULL DEFAULT 'IN_PROGRESS',
    "startedAt" TIMESTAMPTZ(3) NOT NULL,
    "deadlineAt" TIMESTAMPTZ(3) NOT NULL,
    "submittedAt" TIMESTAMPTZ(3),
    "late" BOOLEAN NOT NULL DEFAULT false,
    "answers" JSONB,
    "score" DOUBLE PRECISION,
    "maxScore" INTEGER NOT NULL,
    "correctCount" INTEGER,
    "questionCount" INTEGER NOT NULL,
    "scoredAt" TIMESTAMPTZ(3),
    "failureReason" TEXT,
    "updatedAt" TIMESTAMPTZ(3) NOT NULL,

    CONSTRAINT "Attempt_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "AttemptTransition" (
    "id" BIGSERIAL NOT NULL,
    "attemptId" UUID NOT NULL,
    "fromStatus" "AttemptStatus",
    "toStatus" "AttemptStatus" NOT NULL,
    "reason" TEXT NOT NULL,
    "eventId" TEXT,
    "at" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "AttemptTransition_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "OutboxEvent" (
    "id" UUID NOT NULL,
    "topic" TEXT NOT NULL,
    "type" TEXT NOT NULL,
    "data" JSONB NOT NULL,
    "traceparent" TEXT,
    "tracestate" TEXT,
    "createdAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "availableAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    "attempts" INTEGER NOT NULL DEFAULT 0,
    "lastError" TEXT,
    "sentAt" TIMESTAMPTZ(3),

    CONSTRAINT "OutboxEvent_pkey" PRIMARY KEY ("id")
);

-- CreateTable
CREATE TABLE "ProcessedEvent" (
    "consumer" TEXT NOT NULL,
    "eventId" TEXT NOT NULL,
    "processedAt" TIMESTAMPTZ(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,

    CONSTRAINT "ProcessedEvent_pkey" PRIMARY KEY ("consumer","eventId")
);

-- CreateIndex
CREATE INDEX "Quiz_status_createdAt_id_idx" ON "Quiz"("status", "createdAt", "id");

-- CreateIndex
CREATE INDEX "Quiz_authorId_createdAt_idx" ON "Quiz"("authorId", "createdAt");

-- CreateIndex
CREATE INDEX "QuizVersion_tags_idx" ON "QuizVersion" USING GIN ("tags");

-- CreateIndex
CREATE INDEX "QuizVersion_searchVector_idx" ON "QuizVersion" USING GIN ("searchVector");

-- CreateIndex
CREATE UNIQUE INDEX "QuizVersion_quizId_version_key" ON "QuizVersion"("quizId", "version");

-- CreateIndex
CREATE INDEX "Attempt_userId_startedAt_idx" ON "Attempt"("userId", "startedAt");

-- CreateIndex
CREATE INDEX "Attempt_quizVersionId_idx" ON "Attempt"("quizVersionId");

-- CreateIndex
CREATE INDEX "AttemptTransition_attemptId_id_idx" ON "AttemptTransition"("attemptId", "id");

-- CreateIndex
CREATE INDEX "OutboxEvent_sentAt_availableAt_idx" ON "OutboxEvent"("sentAt", "availableAt");

-- AddForeignKey
ALTER TABLE "QuizVersion" ADD CONSTRAINT "QuizVersion_quizId_fkey" FOREIGN KEY ("quizId") REFERENCES "Quiz"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "Attempt" ADD CONSTRAINT "Attempt_quizVersionId_fkey" FOREIGN KEY ("quizVersionId") REFERENCES "QuizVersion"("id") ON DELETE RESTRICT ON UPDATE CASCADE;

-- AddForeignKey
ALTER TABLE "AttemptTransition" ADD CONSTRAINT "AttemptTransition_attemptId_fkey" FOREIGN KEY ("attemptId") REFERENCES "Attempt"("id") ON DELETE CASCADE ON UPDATE CASCADE;

-- Hand-written: invariants Prisma's schema cannot express (partial unique indexes).
-- At most one draft and one published version per quiz.
CREATE UNIQUE INDEX "QuizVersion_one_draft_per_quiz" ON "QuizVersion"("quizId") WHERE "status" = 'draft';
CREATE UNIQUE INDEX "QuizVersion_one_published_per_quiz" ON "QuizVersion"("quizId") WHERE "status" = 'published';
-- At most one open attempt per player and quiz version.
CREATE UNIQUE INDEX "Attempt_one_open_per_player_and_version" ON "Attempt"("userId", "quizVersionId") WHERE "status" = 'IN_PROGRESS';
