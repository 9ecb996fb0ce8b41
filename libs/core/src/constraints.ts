/** Label constraints, shared by the placement filter and the committer's fine-grained check. */

export type ConstraintOp = 'in' | 'not_in' | 'exists' | 'not_exists';
export const CONSTRAINT_OPS: readonly ConstraintOp[] = ['in', 'not_in', 'exists', 'not_exists'];

export interface Constraint {
  readonly label: string;
  readonly op: ConstraintOp;
  readonly values?: readonly string[];
}

export type Labels = Readonly<Record<string, string>>;

export function satisfies(labels: Labels, c: Constraint): boolean {
  // Own properties only: a label named `constructor` or `toString` must not match Object.prototype.
  const v = Object.hasOwn(labels, c.label) ? labels[c.label] : undefined;
  switch (c.op) {
    case 'in':
      return v !== undefined && (c.values ?? []).includes(v);
    case 'not_in':
      return v === undefined || !(c.values ?? []).includes(v);
    case 'exists':
      return v !== undefined;
    case 'not_exists':
      return v === undefined;
  }
}

export function satisfiesAll(labels: Labels, constraints: readonly Constraint[] | undefined): boolean {
  if (constraints === undefined) return true;
  for (let i = 0; i < constraints.length; i++) if (!satisfies(labels, constraints[i])) return false;
  return true;
}
