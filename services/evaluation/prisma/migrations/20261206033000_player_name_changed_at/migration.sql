-- Display names follow user.renamed; the time of the held name orders out-of-order deliveries.
ALTER TABLE "Player" ADD COLUMN "nameChangedAt" TIMESTAMPTZ(3);
UPDATE "Player" SET "nameChangedAt" = "registeredAt";
ALTER TABLE "Player" ALTER COLUMN "nameChangedAt" SET NOT NULL;
