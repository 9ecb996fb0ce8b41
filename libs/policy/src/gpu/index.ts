/** GPU placement (DESIGN §12): FGD's fragmentation model, task shapes, the GPU scorers and the device filter. */
export { EMPTY_MIX, freeInto, freeMilliOf, mixOf, nodeFrag, typicalMix, type FragNode, type ShapeMix } from './frag.ts';
export { ShapeMemo, modelAllows, shapeKey, shapeOfTask, type TaskShape } from './shapes.ts';
export { ShapeWindow } from './shape-window.ts';
export { FragScratch, type GpuScoredNode } from './node-state.ts';
export { bestFitChoice, hash32 } from './device-choice.ts';
export { devicesFor } from './devices-for.ts';
export { DEFAULT_FGD_RESOLUTION, DEFAULT_FGD_WINDOW, FGD, FgdEvaluator, createFgdScorer, type FgdArgs, type FgdScorer } from '../scorers/fgd.ts';
export { BESTFIT, MAX_SPEC_CPU, MAX_SPEC_GPU_MILLI, createBestfitScorer } from '../scorers/bestfit.ts';
export { PACKING, createPackingScorer, packingScore } from '../scorers/packing.ts';
export { DOTPROD, createDotprodScorer } from '../scorers/dotprod.ts';
export { RANDOM, createRandomScorer } from '../scorers/random.ts';
export { GPU_DEVICES, createGpuDevicesFilter } from '../filters/gpu-devices.ts';
