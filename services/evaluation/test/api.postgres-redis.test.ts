import { evaluationApiSuite } from './api-suite';

describe('evaluation on PostgreSQL with Redis leaderboards', () => {
  evaluationApiSuite('postgres+redis');
});
