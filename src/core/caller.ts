/** Who is calling, as the auth stage identified them; anonymous when keys are not required. */
export interface Caller {
  keyId: string | null;
  team: string | null;
  /**
   * What the caller may use, from its key and team lists (both must allow a name); absent:
   * everything. Check with `mayUse` (src/access/permissions.ts).
   */
  permissions?: CallerPermissions;
}

/** Allowed names per kind; null: every name of that kind. */
export interface CallerPermissions {
  models: ReadonlySet<string> | null;
  prompts: ReadonlySet<string> | null;
  services: ReadonlySet<string> | null;
}

export const ANONYMOUS: Caller = Object.freeze({ keyId: null, team: null });
