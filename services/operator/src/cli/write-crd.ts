/** Writes the Quiz CRD into the chart (see crd.ts). */
import { writeFileSync } from 'node:fs';
import { CRD_TEMPLATE_PATH, crdTemplate } from '../crd-file';

writeFileSync(CRD_TEMPLATE_PATH, crdTemplate());
process.stdout.write(`wrote ${CRD_TEMPLATE_PATH}\n`);
