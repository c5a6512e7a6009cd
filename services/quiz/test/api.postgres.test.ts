import { quizApiSuite } from './api-suite';

describe('quiz on PostgreSQL', () => {
  quizApiSuite('postgres');
});
