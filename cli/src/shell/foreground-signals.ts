/**
 * Ctrl-C / SIGTERM for a cell run in the foreground (`up`, `start`): the first signal stops the
 * cell in order (or aborts a start in progress: startCell then stops what it started and
 * rejects); a second one a moment later kills it now.
 */
import type { CellHandle } from '@tessera/launcher';

export interface ForegroundCell {
  /** Set once startCell resolved. */
  handle?: CellHandle;
  /** Passed to startCell; aborted when a signal arrives before the cell is up. */
  readonly starting: AbortController;
}

export function stopCellOnSignals(err: (s: string) => void): ForegroundCell {
  const cell: ForegroundCell = { starting: new AbortController() };
  let stopping = false;
  let stoppingSince = 0;
  const onSignal = (sig: NodeJS.Signals) => {
    // The same Ctrl-C can arrive twice (terminal + a relaying wrapper like tsx or npm): only a
    // second one a moment later means "stop waiting".
    if (stopping) {
      if (Date.now() - stoppingSince < 1000) return;
      err(`tessera: ${sig} again: killing the cell now`);
      process.exit(130);
    }
    stopping = true;
    stoppingSince = Date.now();
    err(`tessera: ${sig}: stopping the cell…`);
    if (cell.handle === undefined) { cell.starting.abort(); return; }
    void cell.handle.stop().finally(() => process.exit(0));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return cell;
}
