import { quizApiSuite } from './api-suite';

describe('quiz on the embedded PostgreSQL cluster', () => {
  quizApiSuite('embedded');
});
