/** The CLI's one error class: its message is the one line the user sees (`tessera: …`). */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(message: string, readonly exitCode = 1, options?: { cause?: unknown }) {
    super(message, options);
  }
}
