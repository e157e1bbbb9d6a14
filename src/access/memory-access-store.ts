import { approvalMember, AUDIT_CAPACITY, type AccessStore } from './access-store.js';
import type { AuditEntry, KeyRecord, Subscription, TeamRecord } from './types.js';

/** The embedded store: one process, so there is nothing to cache and nothing to invalidate. */
export function createMemoryAccessStore(): AccessStore {
  const teams = new Map<string, TeamRecord>();
  const keys = new Map<string, KeyRecord>();
  const byHash = new Map<string, KeyRecord>();
  const subs = new Map<string, Subscription>();
  const subIds = new Map<string, string>();
  const approved = new Set<string>();
  const audit: AuditEntry[] = [];

  return {
    shared: false,
    async createTeam(team) {
      if (teams.has(team.id)) return undefined;
      teams.set(team.id, team);
      return team;
    },
    getTeam: async (id) => teams.get(id),
    listTeams: async () => [...teams.values()],
    async replaceTeam(next) {
      if (teams.get(next.id)?.version !== next.version - 1) return false;
      teams.set(next.id, next);
      return true;
    },
    async deleteTeam(id, version) {
      if (teams.get(id)?.version !== version) return false;
      teams.delete(id);
      return true;
    },
    async createKey(key) {
      keys.set(key.id, key);
      byHash.set(key.hash, key);
      return key;
    },
    getKey: async (id) => keys.get(id),
    findKeyByHash: async (hash) => byHash.get(hash),
    listKeys: async () => [...keys.values()],
    async replaceKey(next) {
      const current = keys.get(next.id);
      if (current?.version !== next.version - 1) return false;
      keys.set(next.id, next);
      byHash.set(next.hash, next);
      return true;
    },
    async putSubscription(sub) {
      subs.set(sub.id, sub);
      const member = approvalMember(sub.team, sub.kind, sub.name);
      subIds.set(member, sub.id);
      if (sub.status === 'approved') approved.add(member);
      else approved.delete(member);
    },
    getSubscription: async (id) => subs.get(id),
    async findSubscription(team, kind, name) {
      const id = subIds.get(approvalMember(team, kind, name));
      return id === undefined ? undefined : subs.get(id);
    },
    listSubscriptions: async () => [...subs.values()],
    isApproved: async (team, kind, name) => approved.has(approvalMember(team, kind, name)),
    async appendAudit(entry) {
      audit.push(entry);
      if (audit.length > AUDIT_CAPACITY) audit.splice(0, audit.length - AUDIT_CAPACITY);
    },
    listAudit: async (limit) => audit.slice(-limit).reverse(),
  };
}
