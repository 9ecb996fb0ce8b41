/**
 * tessera's own job specs (DESIGN §7), as `tessera submit` reads them: a bare spec (submitted at 0)
 * or an envelope `{ "submit_s": 12.5, "job": { …spec… } }` for replayable files of our own.
 */
import type { ConvertOptions, DraftResult, GroupSkip } from './draft.ts';
import { isObj, type Obj } from './fields.ts';
import { SKIP_REASONS } from './types.ts';

/** True for an envelope: `job` is a spec object (trace rows have `job` as an id string). */
export function isEnvelope(rec: Obj): boolean {
  return isObj(rec.job);
}

export function tesseraJob(rec: Obj, options: ConvertOptions): DraftResult {
  let submitS = 0;
  let spec: Obj = rec;
  if (isEnvelope(rec)) {
    const s = rec.submit_s ?? 0;
    if (typeof s !== 'number' || !Number.isFinite(s)) {
      return { skip: SKIP_REASONS.invalidRecord, message: `submit_s must be a finite number, got ${JSON.stringify(s)}` };
    }
    submitS = s;
    spec = rec.job as Obj;
  }
  // Core's schema does the real checking later; only what we rewrite is looked at here.
  const id = typeof spec.id === 'string' ? (options.idPrefix ?? '') + spec.id : spec.id;
  if (!Array.isArray(spec.tasks)) return { skip: SKIP_REASONS.invalidSpec, message: 'tasks: must be an array of task groups' };
  const groups: unknown[] = spec.tasks;
  const tasks: unknown[] = [];
  const skippedGroups: GroupSkip[] = [];
  let withoutDuration = 0;
  for (let i = 0; i < groups.length; i++) {
    const g = groups[i];
    const count = isObj(g) && typeof g.count === 'number' ? g.count : 0;
    if (isObj(g) && g.duration_s === undefined) {
      if (options.requireDuration) {
        skippedGroups.push({ reason: SKIP_REASONS.noDuration, tasks: count, message: `tasks[${i}] has no duration_s` });
        continue;
      }
      withoutDuration += count;
    }
    tasks.push(g);
  }
  return {
    submitS,
    // Passed through otherwise untouched (unknown fields included) so validateJobSpec reports them.
    spec: { ...spec, id, tasks },
    skippedGroups,
    tasksWithoutDuration: withoutDuration,
    tasksRightCensored: 0,
  };
}
