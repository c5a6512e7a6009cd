import { evaluationApiSuite } from './api-suite';

describe('evaluation on the embedded PostgreSQL (PGlite) with the in-process leaderboards', () => {
  evaluationApiSuite('embedded');
});
