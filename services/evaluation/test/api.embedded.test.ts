import { evaluationApiSuite } from './api-suite';

describe('evaluation on the embedded PostgreSQL cluster with the in-process leaderboards', () => {
  evaluationApiSuite('embedded');
});
