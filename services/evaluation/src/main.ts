import { telemetry } from './instrumentation';
import { runService } from '@quizmesh/platform';
import { evaluationConfigSchema } from './config';
import { createEvaluation } from './evaluation';

runService({ service: 'evaluation', schema: evaluationConfigSchema, telemetry, create: createEvaluation });
