/** FGD's openb experiment pieces, for runs outside the simulator (bench: the same protocol through the real services). */
export { fgdArrivals, fgdNodes, loadOpenb, totalMilliOf, type OpenbCell } from './openb.ts';
export { GPU_POLICIES, pipelineSpecFor, traceMix, type FgdRunOptions, type FgdRunResult, type GpuPolicy } from './run.ts';
export { curveAt, discreteCurve, type GpuCurve, type GpuRecord } from './metrics.ts';
