/**
 * Turns a parsed prompt file (or an admin-posted body) into a servable Prompt: validates it
 * against the file contract, compiles its input and output JSON Schemas with Ajv and parses its
 * templates, all once, so a request only runs compiled code. Every fault names its key path.
 */
import { Ajv, type ErrorObject } from 'ajv';
import ajvFormats from 'ajv-formats';
import { compileGuardrails, guardrailFaults } from '../guardrails/compile-guardrails.js';
import { promptFileSchema } from './prompt-schema.js';
import type { Prompt, PromptSource, PromptSpec } from './prompt-types.js';
import { parseTemplate } from './template.js';

export type CompileResult = { ok: true; prompt: Prompt } | { ok: false; faults: string[] };

export interface PromptCompiler {
  compile(raw: unknown, source: PromptSource): CompileResult;
}

export function describeIssue(e: ErrorObject): string {
  const where = e.instancePath || '/';
  const extra = e.keyword === 'additionalProperties' ? ` "${String(e.params.additionalProperty)}"` : '';
  const allowed = e.keyword === 'enum' ? ` (${(e.params.allowedValues as unknown[]).join(', ')})` : '';
  return `${where}: ${e.message ?? 'is invalid'}${extra}${allowed}`;
}

/**
 * One Ajv per prompt: a prompt's schemas (and any `$id` in them) live and go with it, so hot
 * reloads do not pile compiled schemas up in a shared cache, and two versions may share an `$id`.
 */
function schemaCompiler(): Ajv {
  // Unknown keywords are faults (a typo such as `requried` would silently accept anything);
  // `example` is allowed because OpenAPI-minded authors write it.
  const ajv = new Ajv({ allErrors: false, useDefaults: true, coerceTypes: false, strictSchema: true, strictTypes: false, strictTuples: false, strictRequired: false });
  ajvFormats.default(ajv);
  ajv.addVocabulary(['example']);
  return ajv;
}

/** `team/x` and `/prompts/team/x` both mean `/prompts/team/x`. */
export function routeOf(spec: Pick<PromptSpec, 'name' | 'path'>): string {
  if (!spec.path) return `/prompts/${spec.name}`;
  return spec.path.startsWith('/prompts/') ? spec.path : `/prompts/${spec.path}`;
}

function compileSchema(ajv: Ajv, schema: Record<string, unknown>, at: string, faults: string[]) {
  try {
    return ajv.compile(schema);
  } catch (err) {
    faults.push(`${at}: not a usable JSON Schema: ${(err as Error).message}`);
    return undefined;
  }
}

export function createPromptCompiler(): PromptCompiler {
  const specAjv = new Ajv({ allErrors: true, useDefaults: true, strict: false });
  const validateSpec = specAjv.compile(promptFileSchema);

  return {
    compile(raw, source) {
      if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return { ok: false, faults: ['/: a prompt must be a mapping'] };
      // Defaults are written into the object; the caller's copy stays as it was.
      const data = structuredClone(raw);
      if (!validateSpec(data)) {
        const issues = (validateSpec.errors ?? []).filter((e) => e.keyword !== 'if');
        return { ok: false, faults: issues.map(describeIssue) };
      }
      const spec = data as unknown as PromptSpec;
      const faults: string[] = [];
      if (spec.input.type !== undefined && spec.input.type !== 'object') {
        faults.push('/input/type: the request body is a JSON object, so input must have type: object');
      }
      const ajv = schemaCompiler();
      const validateInput = compileSchema(ajv, spec.input, '/input', faults);
      const validateOutput = spec.output.type === 'json' ? compileSchema(ajv, spec.output.schema, '/output/schema', faults) : undefined;

      const declared = spec.input.properties;
      const known = declared && typeof declared === 'object' ? new Set(Object.keys(declared)) : undefined;
      const templates = spec.messages.map((message, i) => {
        const template = parseTemplate(message.content);
        for (const variable of template.vars) {
          const root = variable.split('.')[0]!;
          if (known && !known.has(root)) {
            faults.push(`/messages/${i}/content: {{${variable}}} uses "${root}", which is not declared under input.properties`);
          }
        }
        return { role: message.role, template };
      });
      faults.push(...guardrailFaults(spec.guardrails, '/guardrails'));
      if (faults.length > 0 || !validateInput) return { ok: false, faults };
      const guardrails = compileGuardrails(spec.guardrails, `prompt '${spec.name}'`);
      const prompt: Prompt = { spec: Object.freeze(spec), source, route: routeOf(spec), templates, validateInput, validateOutput, guardrails };
      return { ok: true, prompt };
    },
  };
}
