/** Who is calling, as the auth stage identified them; anonymous when keys are not required. */
export interface Caller {
  keyId: string | null;
  team: string | null;
}

export const ANONYMOUS: Caller = Object.freeze({ keyId: null, team: null });
