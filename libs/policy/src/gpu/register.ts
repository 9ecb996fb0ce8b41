/** Registers the GPU plugins (DESIGN §12) by name: the gpu-devices filter and the fgd, bestfit, packing, dotprod and random scorers. */
import { createGpuDevicesFilter, GPU_DEVICES } from '../filters/gpu-devices.ts';
import type { PluginRegistry } from '../registry.ts';
import { BESTFIT, createBestfitScorer } from '../scorers/bestfit.ts';
import { createDotprodScorer, DOTPROD } from '../scorers/dotprod.ts';
import { createFgdScorer, FGD } from '../scorers/fgd.ts';
import { createPackingScorer, PACKING } from '../scorers/packing.ts';
import { createRandomScorer, RANDOM } from '../scorers/random.ts';

export function registerGpuPlugins(r: PluginRegistry): void {
  r.registerFilter(GPU_DEVICES, createGpuDevicesFilter)
    .registerScorer(FGD, createFgdScorer)
    .registerScorer(BESTFIT, createBestfitScorer)
    .registerScorer(PACKING, createPackingScorer)
    .registerScorer(DOTPROD, createDotprodScorer)
    .registerScorer(RANDOM, createRandomScorer);
}
