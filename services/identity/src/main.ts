import { telemetry } from './instrumentation';
import { runService } from '@quizmesh/platform';
import { identityConfigSchema } from './config';
import { createIdentity } from './identity';

runService({ service: 'identity', schema: identityConfigSchema, telemetry, create: createIdentity });
