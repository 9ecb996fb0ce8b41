/**
 * The committer's side of the placement rules (DESIGN §12, placement-rules.ts): a claim whose
 * task group has rules is checked on the authoritative cell (where every job's tasks are, by the
 * cell's job → node index) plus the claims its own transaction accepted before it. Two replicas
 * placing two anti-affine jobs at once: whichever commits second is refused here with reason
 * `placement_rule`, whatever their views said.
 */
import type { CellState } from '../cell.ts';
import { satisfiesAll } from '../constraints.ts';
import type { NodeState } from '../node.ts';
import { ruleBreach, valueOf, type TaskLocations } from '../placement-rules.ts';
import { ConflictReason } from '../reasons.ts';
import type { Claim } from '../txn.ts';
import type { ClaimCheck } from './check.ts';
import type { TxnScope } from './scope.ts';

export const PLACEMENT_RULES_CHECK = 'placement-rules';

/** Values of `label` over the ready nodes that satisfy `claim`'s constraints (spread's domains). */
function domainsOf(cell: CellState, claim: Claim, label: string): string[] {
  const out = new Set<string>();
  for (const n of cell.nodes) {
    if (n.condition !== 'ready' || !satisfiesAll(n.labels, claim.constraints)) continue;
    const v = valueOf(n.labels, n.id, label);
    if (v !== undefined) out.add(v);
  }
  return [...out];
}

/**
 * No `accepted` hook (it would cost every claim of every cell): the claims of the transaction
 * before this one count as placed whether or not they were accepted. That can only refuse more,
 * never let a rule break (and is exact for a gang, accepted whole or not at all); a claim refused
 * that way is proposed again.
 */
export function placementRulesCheck(): ClaimCheck {
  // The transaction being validated (one at a time), how far into its claims `added` reaches,
  // and what those earlier claims put where, per job and node.
  let scope: TxnScope | undefined;
  let upTo = 0;
  let index: Map<Claim, number> | undefined;
  let added: Map<string, Map<string, number>> | undefined;
  // Spread's domains per constraint set and label, once per transaction (a scan of every node).
  const domains = new Map<Claim['constraints'], Map<string, string[]>>();
  const advance = (txn: TxnScope, claim: Claim): void => {
    const claims = txn.txn.claims;
    if (txn !== scope) {
      scope = txn;
      upTo = 0;
      added = undefined;
      domains.clear();
      index = new Map();
      for (let i = 0; i < claims.length; i++) index.set(claims[i], i);
    }
    const at = index!.get(claim) ?? claims.length;
    for (; upTo < at; upTo++) {
      const c = claims[upTo];
      if (c === null || typeof c !== 'object') continue;
      let m = (added ??= new Map()).get(c.jobId);
      if (m === undefined) added.set(c.jobId, (m = new Map()));
      m.set(c.nodeId, (m.get(c.nodeId) ?? 0) + 1);
    }
  };
  const locations = (txn: TxnScope, claim: Claim): TaskLocations => ({
    tasksOf(job) {
      const base = txn.cell.tasksOfJob(job);
      const extra = added?.get(job);
      if (extra === undefined) return base;
      const m = new Map(base ?? []);
      for (const [n, k] of extra) m.set(n, (m.get(n) ?? 0) + k);
      return m;
    },
    labelsOf: (nodeId) => txn.cell.node(nodeId)?.labels,
    domains: (label) => {
      let byLabel = domains.get(claim.constraints);
      if (byLabel === undefined) domains.set(claim.constraints, (byLabel = new Map()));
      let d = byLabel.get(label);
      if (d === undefined) byLabel.set(label, (d = domainsOf(txn.cell, claim, label)));
      return d;
    },
  });
  return {
    name: PLACEMENT_RULES_CHECK,
    check(claim: Claim, node: NodeState | undefined, txn: TxnScope) {
      const rules = claim.rules;
      if (rules === undefined || node === undefined) return undefined;
      advance(txn, claim);
      return ruleBreach(rules, claim.jobId, node, locations(txn, claim)) === undefined ? undefined : ConflictReason.placement_rule;
    },
  };
}
