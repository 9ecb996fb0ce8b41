/**
 * Micro-bench: validation throughput of a 1,000-claim commit request, zod schema vs the fast
 * validator (zod-wrapped `commitRequestFast` and plain `fastValidators.commitRequest`), on the
 * msgpack-decoded object as cell-state sees it, and decode+validate through `decodeAs`.
 *   npx tsx libs/protocol/bench/validate.bench.ts [rounds]
 */
import { commitRequest, commitRequestFast, decodeAs, decodeRaw, encode, fastValidators, type Validator } from '../src/index.ts';

const CLAIMS = 1000;
const claims = Array.from({ length: CLAIMS }, (_, i) => ({
  taskId: `job-${i >> 4}-task-${i}`, jobId: `job-${i >> 4}`, nodeId: `node-${(i * 37) % 5000}`,
  demand: [0.5 + (i % 4), 1024 * (1 + (i % 8)), 0], seenVersion: 1000 + i,
  ...(i % 10 === 0 ? { constraints: [{ label: 'zone', op: 'in', values: ['a', 'b'] }] } : {}),
}));
const bytes = encode({ resources: ['cpu', 'memory', 'gpu'], txns: [{ id: 'txn-1', schedulerId: 'sched-0', kind: 'incremental', claims }] });
const raw = decodeRaw(bytes);

const variants: Array<[string, Validator<unknown>]> = [
  ['zod commitRequest', commitRequest],
  ['commitRequestFast (zod-wrapped)', commitRequestFast],
  ['fastValidators.commitRequest (plain)', fastValidators.commitRequest],
];

function time(fn: () => void, minMs: number): number {
  let n = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) { fn(); n++; t = performance.now(); }
  return (n * CLAIMS) / ((t - t0) / 1000);
}

const rounds = Number(process.argv[2] ?? 5);
const fmt = (x: number) => Math.round(x).toLocaleString('en-US');
console.log(`commit request: ${CLAIMS} claims, ${bytes.length} bytes msgpack; median of ${rounds} interleaved rounds (order rotated) of 500 ms`);
const res = new Map<string, { v: number[]; d: number[] }>(variants.map(([n]) => [n, { v: [], d: [] }]));
for (const [, s] of variants) { for (let i = 0; i < 50; i++) { if (!s.safeParse(raw).success) throw new Error('invalid'); decodeAs(bytes, s); } }
for (let r = 0; r < rounds; r++) {
  // rotate the order every round, so no variant always runs after zod's garbage
  for (let k = 0; k < variants.length; k++) {
    const [name, s] = variants[(k + r) % variants.length];
    res.get(name)!.v.push(time(() => { s.safeParse(raw); }, 500));
    res.get(name)!.d.push(time(() => { decodeAs(bytes, s); }, 500));
  }
}
const med = (a: number[]) => [...a].sort((x, y) => x - y)[a.length >> 1];
const decodeOnly = med(Array.from({ length: rounds }, () => time(() => { decodeRaw(bytes); }, 500)));
console.log(`msgpack decode only: ${fmt(decodeOnly)} records/s`);
console.log('| validator | validate only, records/s | decode + validate, records/s |');
console.log('| --- | ---: | ---: |');
for (const [name] of variants) console.log(`| ${name} | ${fmt(med(res.get(name)!.v))} | ${fmt(med(res.get(name)!.d))} |`);
