-- DropTable
DROP TABLE "DeadLetter";
