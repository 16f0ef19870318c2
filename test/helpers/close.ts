/** Numeric closeness for tests: |actual − expected| ≤ tol·max(1, |expected|), so `tol` is absolute near 0, relative beyond. */
import assert from 'node:assert/strict';

export function close(actual: number, expected: number, tol = 1e-5, what = ''): void {
  assert.ok(Math.abs(actual - expected) <= tol * Math.max(1, Math.abs(expected)), `${what} ${actual} vs ${expected}`);
}
