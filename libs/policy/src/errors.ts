/** Faults of the policy package (programming or configuration errors, never placement outcomes). */

export class UnknownPluginError extends Error {
  override readonly name = 'UnknownPluginError';
  constructor(
    readonly kind: 'filter' | 'scorer',
    readonly plugin: string,
    known: readonly string[],
  ) {
    super(`unknown ${kind} "${plugin}" (known: ${known.join(', ')})`);
  }
}

export class DuplicatePluginError extends Error {
  override readonly name = 'DuplicatePluginError';
  constructor(
    readonly kind: 'filter' | 'scorer',
    readonly plugin: string,
  ) {
    super(`a ${kind} named "${plugin}" is already registered`);
  }
}
