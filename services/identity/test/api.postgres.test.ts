import { identityApiSuite } from './api-suite';

describe('identity on PostgreSQL', () => {
  identityApiSuite('postgres');
});
