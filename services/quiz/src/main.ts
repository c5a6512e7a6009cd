import { telemetry } from './instrumentation';
import { runService } from '@quizmesh/platform';
import { quizConfigSchema } from './config';
import { createQuiz } from './quiz';

runService({ service: 'quiz', schema: quizConfigSchema, telemetry, create: createQuiz });
