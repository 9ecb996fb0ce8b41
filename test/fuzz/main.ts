/**
 * `npm run fuzz [-- --per-subject N] [--seed S]`: the full fuzz run (default 100,000 messages per
 * subject) against a real nats-server, cell-state and scheduler; prints a line per subject and a
 * JSON report, exits 1 on any crash, state change or untyped/missing reply.
 */
import { runFuzz } from './run.ts';

function flag(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v < 1) {
    process.stderr.write(`fuzz: --${name} must be a positive integer\n`);
    process.exit(2);
  }
  return v;
}

const perSubject = flag('per-subject', 100_000);
const seed = flag('seed', 42);
const report = await runFuzz({
  perSubject, seed, window: 128,
  onSubject: (r) => process.stderr.write(`${r.subject.padEnd(18)} ${r.sent} sent in ${r.seconds.toFixed(1)} s (${Math.round(r.sent / Math.max(r.seconds, 0.001))}/s): ${JSON.stringify(r.byKind)} refused ${JSON.stringify(r.refusedByCode)} ok ${r.answeredOk}, valid not sent ${r.validSkipped}, problems ${r.problems.length}\n`),
});
process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
const bad = report.crashed.length + report.stateChanged.length + report.subjects.reduce((n, s) => n + s.problems.length, 0);
process.stderr.write(`fuzz: ${report.subjects.reduce((n, s) => n + s.sent, 0)} messages in ${report.seconds.toFixed(0)} s; crashed ${report.crashed.length}, state changes ${report.stateChanged.length}, problems ${bad - report.crashed.length - report.stateChanged.length}\n`);
process.exit(bad === 0 ? 0 : 1);
