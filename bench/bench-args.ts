// Argument checks the benchmark scripts share: a bad value exits 2 with the flag named.

/** The flag's value as a whole number >= min, or exit 2 saying what was wrong. */
export function wholeNumber(name: string, raw: string, min: number): number {
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) {
    process.stderr.write(`--${name} must be a whole number >= ${min} (got "${raw}")\n`);
    process.exit(2);
  }
  return n;
}
