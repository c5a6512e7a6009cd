import { telemetry } from './instrumentation';
import { runService } from '@quizmesh/platform';
import { notificationConfigSchema } from './config';
import { createNotification } from './notification';

runService({ service: 'notification', schema: notificationConfigSchema, telemetry, create: createNotification });
