/** Plain-text tables for the listings (the `--json` forms are the contract; these are for people). */

export function table(header: readonly string[], rows: readonly (readonly (string | number | undefined)[])[]): string {
  const cells = [header, ...rows.map((r) => r.map((c) => (c === undefined ? '-' : String(c))))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return cells.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]))).join('  ').trimEnd()).join('\n');
}

/** `used/capacity` per resource, compactly (cpu in cores, memory in GiB when large). */
export function usage(resource: string, allocated: number | undefined, capacity: number | undefined): string {
  const a = allocated ?? 0;
  const c = capacity ?? 0;
  if (resource === 'cpu_millis') return `${+(a / 1000).toFixed(2)}/${+(c / 1000).toFixed(2)}`;
  if (resource === 'mem_mib' && c >= 4096) return `${+(a / 1024).toFixed(1)}/${+(c / 1024).toFixed(1)}G`;
  return `${+a.toFixed(2)}/${+c.toFixed(2)}`;
}
