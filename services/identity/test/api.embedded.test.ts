import { identityApiSuite } from './api-suite';

describe('identity on the embedded PostgreSQL cluster', () => {
  identityApiSuite('embedded');
});
