/** The `/v1/embeddings` body: its JSON Schema, checked by Fastify before the handler runs, and its type. */
import { Type, type Static } from '@sinclair/typebox';
import type { EmbeddingsAdmissionBody } from '../access/register-access.js';
import { ModelName, StringEnum } from '../config/schema-builders.js';
import type { EmbeddingRequest } from '../core/types.js';

export const embeddingsBodySchema = Type.Object({
  /** A group or `<provider>/<model>`: bounded and from a small character set, so no stray name reaches a record, a label or a URL. */
  model: ModelName(),
  /** One text, or up to 2048 (OpenAI's limit per call); none empty. */
  input: Type.Union([
    Type.String({ minLength: 1 }),
    Type.Array(Type.String({ minLength: 1 }), { minItems: 1, maxItems: 2048 }),
  ]),
  encoding_format: Type.Optional(StringEnum(['float', 'base64'])),
  dimensions: Type.Optional(Type.Integer({ minimum: 1 })),
  user: Type.Optional(Type.String()),
});

export type EmbeddingsBody = Static<typeof embeddingsBodySchema>;

/*
 * Compile-time checks (core and access keep their own types; neither may import routes): the
 * fields the route hands on are core's types, and the access stage reads what the schema checked.
 */
type Extends<A, B> = [A] extends [B] ? true : false;
type Holds<T extends true> = T;

type EmbeddingsBodyFits = [
  Holds<Extends<Pick<EmbeddingsBody, keyof EmbeddingRequest>, EmbeddingRequest>>,
  Holds<Extends<EmbeddingsBody, EmbeddingsAdmissionBody>>,
];
