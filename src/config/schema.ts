/**
 * The config file's schema, one TypeBox schema per section: the types in ./types.ts are its
 * `Static`s. Ajv (./validate-config.ts) fills defaults and coerces `${VAR}` strings to numbers
 * and booleans.
 */
import { Type } from '@sinclair/typebox';
import { budgetsSchema } from './budgets-schema.js';
import { ledgerSchema } from './ledger-schema.js';
import { modelGroupSchema } from './model-schema.js';
import { providerSchema } from './provider-schema.js';
import { responsesSchema } from './responses-schema.js';
import { closed, StringMap } from './schema-builders.js';
import { authSchema, promptsSchema, serverSchema } from './server-schema.js';
import { serviceSchema } from './service-schema.js';
import { storeSchema } from './store-schema.js';
import { telemetrySchema } from './telemetry-schema.js';

export const gatewayConfigSchema = Type.Object(
  {
    server: serverSchema,
    store: storeSchema,
    auth: authSchema,
    providers: StringMap(providerSchema, {
      default: {},
      description: `Upstream accounts, keyed by the name deployments use; a name cannot contain \`/\`
        (\`<provider>/<model>\` addresses a model directly). Each is told apart by its \`type\`
        ([providers.md](providers.md)).`,
    }),
    models: Type.Array(modelGroupSchema, {
      default: [],
      description: 'The model groups clients name as `model`, each with the deployments its calls go to ([balancing.md](balancing.md)).',
    }),
    prompts: promptsSchema,
    services: Type.Array(serviceSchema, { default: [], description: 'Plain REST services proxied under a path prefix ([rest-services.md](rest-services.md)).' }),
    ledger: ledgerSchema,
    budgets: budgetsSchema,
    responses: responsesSchema,
    telemetry: telemetrySchema,
  },
  closed,
);
