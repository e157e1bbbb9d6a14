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
import { closed, StringMap } from './schema-builders.js';
import { authSchema, promptsSchema, serverSchema } from './server-schema.js';
import { serviceSchema } from './service-schema.js';
import { storeSchema } from './store-schema.js';

export const gatewayConfigSchema = Type.Object(
  {
    server: serverSchema,
    store: storeSchema,
    auth: authSchema,
    /** Keyed by the name deployments use; a name cannot contain `/` (`provider/model` addresses a model directly). */
    providers: StringMap(providerSchema, { default: {} }),
    models: Type.Array(modelGroupSchema, { default: [] }),
    prompts: promptsSchema,
    services: Type.Array(serviceSchema, { default: [] }),
    ledger: ledgerSchema,
    budgets: budgetsSchema,
  },
  closed,
);
