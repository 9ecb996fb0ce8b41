/** Faults of the policy package (programming or configuration errors, never placement outcomes). */

export type PluginKind = 'filter' | 'scorer' | 'post-filter';

export class UnknownPluginError extends Error {
  override readonly name = 'UnknownPluginError';
  constructor(
    readonly kind: PluginKind,
    readonly plugin: string,
    known: readonly string[],
  ) {
    super(`unknown ${kind} "${plugin}" (known: ${known.join(', ')})`);
  }
}

export class DuplicatePluginError extends Error {
  override readonly name = 'DuplicatePluginError';
  constructor(
    readonly kind: PluginKind,
    readonly plugin: string,
  ) {
    super(`a ${kind} named "${plugin}" is already registered`);
  }
}

/** A plugin's factory refused its arguments. */
export class PluginArgsError extends Error {
  override readonly name = 'PluginArgsError';
  constructor(
    readonly plugin: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`plugin "${plugin}": ${detail}`, options);
  }
}

/** A pipeline spec (flag, config file) that does not parse or names unknown plugins; `path` points at the bad field. */
export class PipelineSpecError extends Error {
  override readonly name = 'PipelineSpecError';
  constructor(
    readonly path: string,
    detail: string,
    options?: { cause?: unknown },
  ) {
    super(`${path}: ${detail}`, options);
  }
}
