/** Nodes from a machine file (any format @tessera/workloads reads: the traces' or tessera's own). */
import { readMachines } from '@tessera/workloads';
import type { AgentNode } from '../core/nodes.ts';

export class MachineFileError extends Error {
  override readonly name = 'MachineFileError';
}

export async function loadMachineFile(path: string): Promise<AgentNode[]> {
  let result;
  try {
    result = await readMachines(path);
  } catch (e) {
    throw new MachineFileError(`cannot read machine file ${path}: ${(e as Error).message}`, { cause: e });
  }
  if (result.machines.length === 0) {
    const why = result.stats.examples[0];
    throw new MachineFileError(`no machines in ${path}${why ? ` (line ${why.line}: ${why.message})` : ''}`);
  }
  return result.machines;
}
