/** The committer's checks in their default order, and helpers to build other lists. */
import type { ClaimCheck, EvictionCheck } from './check.ts';
import { constraintsCheck } from './constraints.ts';
import { duplicateTaskCheck } from './duplicate-task.ts';
import { gpuDevicesCheck } from './gpu-devices.ts';
import { nodeStateCheck } from './node-state.ts';
import { placementRulesCheck } from './placement-rules.ts';
import { resourcesCheck } from './resources.ts';
import { versionCheck } from './version.ts';
import { victimPresentCheck } from './victim-present.ts';
import { wellFormedCheck } from './well-formed.ts';

export type { ClaimCheck, EvictionCheck } from './check.ts';
export { TxnScope } from './scope.ts';
export { WELL_FORMED_CHECK, isWellFormedClaim, wellFormedCheck } from './well-formed.ts';
export { DUPLICATE_TASK_CHECK, duplicateTaskCheck } from './duplicate-task.ts';
export { RETIRED_TASK_CHECK, retiredTaskCheck } from './retired-task.ts';
export { NODE_STATE_CHECK, nodeStateCheck } from './node-state.ts';
export { VERSION_CHECK, versionCheck } from './version.ts';
export { CONSTRAINTS_CHECK, constraintsCheck } from './constraints.ts';
export { RESOURCES_CHECK, resourcesCheck } from './resources.ts';
export { VICTIM_PRESENT_CHECK, victimPresentCheck } from './victim-present.ts';
export { PREEMPTION_POLICY_CHECK, preemptionPolicyCheck, type PreemptionPolicyDeps } from './preemption-policy.ts';
export { QUOTA_CHECK, quotaCheck } from './quota.ts';
export { GPU_DEVICES_CHECK, gpuDevicesCheck } from './gpu-devices.ts';
export { PLACEMENT_RULES_CHECK, placementRulesCheck } from './placement-rules.ts';

/**
 * Default order. `well-formed` first (the rest rely on it), then the checks that say the claim
 * can never be right (duplicate), then node state, version, constraints, placement rules, and
 * resources last (the totals, then the GPU devices), so a claim is counted under the most telling
 * reason. Placement rules cost nothing for a claim without any.
 */
export const DEFAULT_CLAIM_CHECKS: readonly ClaimCheck[] = Object.freeze([
  wellFormedCheck, duplicateTaskCheck, nodeStateCheck, versionCheck, constraintsCheck, placementRulesCheck(), resourcesCheck, gpuDevicesCheck,
]);

export const DEFAULT_EVICTION_CHECKS: readonly EvictionCheck[] = Object.freeze([victimPresentCheck]);

/** `checks` with `check` inserted right after the check named `after` (at the end when absent). */
export function withCheck<C extends { readonly name: string }>(checks: readonly C[], check: C, after?: string): readonly C[] {
  if (checks.some((c) => c.name === check.name)) throw new RangeError(`a check named "${check.name}" is already in the list`);
  const i = after === undefined ? -1 : checks.findIndex((c) => c.name === after);
  const out = [...checks];
  out.splice(i < 0 ? out.length : i + 1, 0, check);
  return Object.freeze(out);
}
