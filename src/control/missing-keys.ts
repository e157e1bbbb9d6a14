/**
 * What to tell a client whose model is configured but switched off because its providers have
 * no API key: the environment variable that would switch each one on. The running config
 * holds only the resolved, empty key, so the variable comes from the raw `${VAR}` in the
 * overlay or the config file (src/admin-providers/key-variable.ts).
 */
import { keyVariableOf } from '../admin-providers/key-variable.js';
import type { ConfigSnapshot } from './config-snapshot.js';
import { overlayField } from './overlay.js';

export class MissingKeys {
  /**
   * Per snapshot, so a config change is seen at once, and per provider, so a client that keeps
   * calling a switched-off model reads the config file once, not once a request.
   */
  private readonly variables = new WeakMap<ConfigSnapshot, Map<string, Promise<string>>>();

  constructor(private readonly configFile: string | null) {}

  /** The variable to set for provider `name` of `snapshot`'s config. */
  variableFor(snapshot: ConfigSnapshot, name: string): Promise<string> {
    let known = this.variables.get(snapshot);
    if (!known) {
      known = new Map();
      this.variables.set(snapshot, known);
    }
    let variable = known.get(name);
    if (!variable) {
      // The registry that named the provider may be older than `snapshot`; a provider deleted
      // since then has no config left to read, so the name alone suggests the variable.
      const provider = snapshot.config.providers[name];
      variable = provider
        ? keyVariableOf(name, provider.type, {
            overlayEntry: snapshot.info.overlay.get(overlayField('providers', name)),
            configFile: this.configFile,
          }).then((found) => found.variable)
        : Promise.resolve(`${name.toUpperCase()}_API_KEY`);
      known.set(name, variable);
    }
    return variable;
  }

  /** "provider 'openai' has no API key (set OPENAI_API_KEY)", one clause per provider. */
  async describe(snapshot: ConfigSnapshot, providers: readonly string[]): Promise<string> {
    const clauses = await Promise.all(
      providers.map(async (name) => `provider '${name}' has no API key (set ${await this.variableFor(snapshot, name)})`),
    );
    return clauses.join('; ');
  }
}
