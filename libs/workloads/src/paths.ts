/**
 * The trace files bundled in the repository's `workloads/` folder (provenance in its README).
 * tessera reads only these at run time, never the shared source folder they were copied from.
 */
import { fileURLToPath } from 'node:url';

export const BUNDLED_WORKLOADS_DIR = fileURLToPath(new URL('../../../workloads/', import.meta.url));

const file = (name: string) => fileURLToPath(new URL(`../../../workloads/${name}`, import.meta.url));

export const BUNDLED = Object.freeze({
  /** Google 2011: 5 948 jobs, 208 329 tasks (3 981 jobs already running at t=0). */
  google2011Jobs: file('google2011.jobs.jsonl.gz'),
  /** Google 2011: the first 1 500 jobs submitted after t=0 (56 872 tasks). */
  google2011Sample: file('google2011.sample.jobs.jsonl.gz'),
  /** Alibaba 2017: the whole batch_task table (12 951 jobs, 80 553 tasks, 11.9 M instances). */
  alibaba2017Jobs: file('alibaba2017.jobs.jsonl.gz'),
  /** Alibaba 2017: the first 1 500 jobs with submit ≥ 0 (8 693 tasks). */
  alibaba2017Sample: file('alibaba2017.sample.jobs.jsonl.gz'),
  /** Alibaba 2017: 1 313 machines, 64 cores each. */
  alibaba2017Machines: file('alibaba2017.machines.jsonl.gz'),
  /** Alibaba GPU 2023 (openb): 8 152 pods. */
  alibabaGpu2023Jobs: file('alibaba_gpu2023.jobs.jsonl.gz'),
  /** Alibaba GPU 2023 (openb): 1 523 nodes. */
  alibabaGpu2023Machines: file('alibaba_gpu2023.machines.jsonl.gz'),
  /** FGD's own random draws for openb arrivals (Go's math/rand, seeds 42..51; scripts/fgd-go-rand). */
  fgdGoRandOpenb: file('fgd-go-rand.openb.json.gz'),
  /** Every statistic quoted in workloads/README.md, as computed by convert.py. */
  stats: file('stats.json'),
});
