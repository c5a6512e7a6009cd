import { quizApiSuite } from './api-suite';

describe('quiz on the embedded PostgreSQL (PGlite)', () => {
  quizApiSuite('embedded');
});
