/**
 * Publishing prompts without a file (master key): `POST /admin/prompts` validates and stores
 * one (Redis when configured, so every instance serves it; else the prompts dir),
 * `DELETE /admin/prompts/<name>[@<version>]` retires it, `GET /admin/prompts` lists what is
 * served and every file or stored prompt that was skipped, with the reason.
 */
import type { FastifyInstance } from 'fastify';
import { GatewayError } from '../core/errors.js';
import { describePrompt } from '../prompts/describe-prompt.js';
import type { PromptCatalog } from '../prompts/prompt-catalog.js';
import type { Prompt } from '../prompts/prompt-types.js';
import { publishPrompt, retirePrompt } from '../prompts/publish-prompt.js';

const NAME_AT_VERSION = /^([^@]+)(?:@(\d+))?$/;

function sourceOf(prompt: Prompt): string {
  return prompt.source.kind === 'file' ? prompt.source.path : 'store';
}

export function registerAdminPrompts(app: FastifyInstance, catalog: PromptCatalog): void {
  const prompts = catalog.registry;
  const guard = { preHandler: app.gateway.requireAdmin };

  app.get('/admin/prompts', guard, async () => ({
    prompts: prompts.list().map((entry) => ({
      ...describePrompt(entry.latest, entry.versions, prompts.routeOf(entry)),
      sources: entry.versions.map((p) => ({ version: p.spec.version, source: sourceOf(p) })),
    })),
    faults: catalog.faults(),
  }));

  app.post('/admin/prompts', guard, async (request, reply) => {
    const { prompt, stored } = await publishPrompt(catalog, request.body);
    const entry = prompts.list().find((e) => e.name === prompt.spec.name);
    const route = entry ? prompts.routeOf(entry) : prompt.route;
    reply.code(201);
    return { ...describePrompt(prompt, entry?.versions ?? [prompt], route), stored };
  });

  app.delete('/admin/prompts/:name', guard, async (request) => {
    const given = (request.params as { name: string }).name;
    const match = NAME_AT_VERSION.exec(given);
    if (!match) throw new GatewayError('invalid_request', `'${given}' is not <name> or <name>@<version>`, { param: 'name' });
    const name = match[1]!;
    const version = match[2] === undefined ? undefined : Number(match[2]);
    const removed = await retirePrompt(catalog, name, version);
    return { deleted: given, removed };
  });
}
