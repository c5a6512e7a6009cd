import { identityApiSuite } from './api-suite';

describe('identity on the embedded PostgreSQL (PGlite)', () => {
  identityApiSuite('embedded');
});
