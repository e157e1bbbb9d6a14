/**
 * The model as it goes into Gemini's URL path. The adapter builds `<base>/v1beta/<model>:<task>`
 * (as the SDK does, from the name as given) with the gateway's key in `x-goog-api-key`: a client's
 * `gem/../../admin/secret?x=` would reach `/admin/secret` on the provider's host, and a `#`
 * would cut the task off. So a name is a model id (after an optional `models/` or
 * `tunedModels/`), or the call is the caller's 400 before anything is sent.
 * https://ai.google.dev/api/models#method:-models.get (model names: `models/{model}`)
 */
import { invalidRequest } from '../shared/invalid-request.js';

const GEMINI_MODEL = /^(models\/|tunedModels\/)?([A-Za-z0-9][A-Za-z0-9._-]*)$/;

/** `models/<id>` or `tunedModels/<id>`, the id percent-encoded; throws the caller's 400 for anything else. */
export function toGeminiModelPath(model: string): string {
  const match = GEMINI_MODEL.exec(model);
  if (!match) throw invalidRequest(`'${model.slice(0, 256)}' is not a Gemini model name`, 'model');
  // The id's characters need no encoding today; encoding keeps that true if the rule widens.
  return `${match[1] ?? 'models/'}${encodeURIComponent(match[2]!)}`;
}
