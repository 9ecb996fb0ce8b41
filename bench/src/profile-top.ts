/**
 * Prints the top functions by self time of `.cpuprofile` files (`node --cpu-prof` output):
 *   npx tsx bench/src/profile-top.ts FILE… [--top N] [--modules]
 */
import { REPO_ROOT } from '@tessera/launcher';
import { formatTop, readCpuProfile, summariseProfile } from './profile.ts';

const args = process.argv.slice(2);
const topAt = args.indexOf('--top');
const top = topAt >= 0 ? Number(args[topAt + 1]) : 20;
const files = args.filter((a, i) => !a.startsWith('--') && (topAt < 0 || i !== topAt + 1));
if (files.length === 0 || !(top > 0)) {
  process.stderr.write('usage: tsx bench/src/profile-top.ts FILE.cpuprofile… [--top N] [--modules]\n');
  process.exit(2);
}
for (const f of files) {
  const s = summariseProfile(readCpuProfile(f), top, REPO_ROOT);
  process.stdout.write(`== ${f}\n${formatTop(s)}\n`);
  if (args.includes('--modules')) {
    for (const m of s.byModule.slice(0, top)) process.stdout.write(`${(m.busyShare * 100).toFixed(1).padStart(5)}%  ${m.module}\n`);
  }
}
