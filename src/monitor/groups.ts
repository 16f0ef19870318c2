/**
 * Partitions of a rollout's n samples into the groups the estimator compares (estimator.ts): single samples,
 * contiguous blocks of each env's segment (the default, see grouping.ts), whole segments, episodes, random
 * micro-batches. A partition also says which groups are time neighbours in one segment (`linked`, for the
 * estimator's neighbour terms) and whether group sizes depend on the outcome (`randomSizes`, episodes).
 */
import type { Rng } from '../core/rng.js';

/** A partition of the n samples into groups 0..count−1. */
export interface GroupAssignment {
  readonly ids: Int32Array;
  readonly count: number;
  readonly sizes: Int32Array;
  /** K − 1 flags: groups k and k + 1 follow each other in one env segment. Absent: no neighbours. */
  readonly linked?: Uint8Array;
  /** Sizes depend on the outcome (episodes): the estimator uses its ratio form. */
  readonly randomSizes?: boolean;
}

/** Dense group ids from arbitrary ids (numbered in order of first appearance). */
export function groupsFromIds(ids: ArrayLike<number>, options: { randomSizes?: boolean } = {}): GroupAssignment {
  const dense = new Int32Array(ids.length);
  const index = new Map<number, number>();
  const sizes: number[] = [];
  for (let i = 0; i < ids.length; i++) {
    let k = index.get(ids[i]!);
    if (k === undefined) {
      k = sizes.length;
      index.set(ids[i]!, k);
      sizes.push(0);
    }
    dense[i] = k;
    sizes[k]!++;
  }
  return { ids: dense, count: sizes.length, sizes: Int32Array.from(sizes), ...(options.randomSizes ? { randomSizes: true } : {}) };
}

/** Every sample its own group (B_small = 1). */
export function singleSampleGroups(n: number): GroupAssignment {
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = i;
  return { ids, count: n, sizes: new Int32Array(n).fill(1) };
}

/** A random partition into micro-batches of `size` samples (the last one smaller when size does not divide n). */
export function microBatchGroups(n: number, size: number, rng: Rng): GroupAssignment {
  const order = rng.permutation(n);
  const ids = new Int32Array(n);
  for (let r = 0; r < n; r++) ids[order[r]!] = Math.floor(r / size);
  const count = Math.ceil(n / size);
  const sizes = new Int32Array(count).fill(size);
  if (n % size !== 0) sizes[count - 1] = n % size;
  return { ids, count, sizes };
}

/** The runs of equal segment id, in sample order: [start, end) per run (a segment's samples are contiguous). */
export function segmentRuns(segments: ArrayLike<number>): { start: number; end: number }[] {
  const runs: { start: number; end: number }[] = [];
  for (let i = 0; i < segments.length; i++) {
    if (i === 0 || segments[i] !== segments[i - 1]) runs.push({ start: i, end: i + 1 });
    else runs[runs.length - 1]!.end = i + 1;
  }
  return runs;
}

/**
 * Contiguous blocks of about `length` samples within each env segment, numbered in time order, with consecutive
 * blocks of one segment linked as neighbours. A segment of m samples is cut into max(1, round(m / length)) blocks of
 * (nearly) equal size, so no block is much shorter than the others (short blocks see less of the correlation).
 */
export function blockGroups(segments: ArrayLike<number>, length: number): GroupAssignment {
  if (!(length >= 1)) throw new RangeError(`blockGroups: length must be ≥ 1 (got ${length})`);
  const ids = new Int32Array(segments.length);
  const sizes: number[] = [];
  const linked: number[] = [];
  for (const { start, end } of segmentRuns(segments)) {
    const m = end - start;
    const blocks = Math.max(1, Math.round(m / length));
    for (let b = 0; b < blocks; b++) {
      const from = start + Math.round((b * m) / blocks);
      const to = start + Math.round(((b + 1) * m) / blocks);
      if (sizes.length > 0) linked.push(b > 0 ? 1 : 0);
      ids.fill(sizes.length, from, to);
      sizes.push(to - from);
    }
  }
  return { ids, count: sizes.length, sizes: Int32Array.from(sizes), linked: Uint8Array.from(linked) };
}

/**
 * Unions of consecutive groups (in group order): `target` unions of about equal size, never merging groups across a
 * segment boundary unless a segment has fewer groups than its share. Used for B_noise's direction units. Linked
 * when all merged groups of the two unions were linked across their boundary.
 */
export function mergeGroups(groups: GroupAssignment, target: number): GroupAssignment {
  const count = groups.count;
  const unions = Math.max(1, Math.min(target, count));
  const map = new Int32Array(count);
  const n = groups.ids.length;
  let seen = 0;
  for (let k = 0; k < count; k++) {
    // Group k goes to the union its midpoint falls in, by sample count.
    const mid = seen + groups.sizes[k]! / 2;
    map[k] = Math.min(unions - 1, Math.floor((mid / n) * unions));
    seen += groups.sizes[k]!;
  }
  const ids = new Int32Array(n);
  for (let i = 0; i < n; i++) ids[i] = map[groups.ids[i]!]!;
  const sizes = new Int32Array(unions);
  for (let k = 0; k < count; k++) sizes[map[k]!]! += groups.sizes[k]!;
  const linked = new Uint8Array(Math.max(0, unions - 1));
  for (let k = 0; k + 1 < count; k++) {
    if (map[k + 1] !== map[k] && groups.linked?.[k]) linked[map[k]!] = 1;
  }
  return { ids, count: unions, sizes, linked, ...(groups.randomSizes ? { randomSizes: true } : {}) };
}

/** Members of each group, in sample order. */
export function groupMembers(groups: GroupAssignment): Int32Array[] {
  const members = Array.from(groups.sizes, (m) => new Int32Array(m));
  const fill = new Int32Array(groups.count);
  groups.ids.forEach((k, i) => {
    members[k]![fill[k]!++] = i;
  });
  return members;
}

/** Equal-size groups that are consecutive rows (group k = rows k·m .. (k+1)·m − 1): a reshape lays them out. */
export function contiguousBlockSize(groups: GroupAssignment): number | null {
  const m = groups.sizes[0];
  if (m === undefined || groups.sizes.some((s) => s !== m)) return null;
  for (let i = 0; i < groups.ids.length; i++) if (groups.ids[i] !== Math.floor(i / m)) return null;
  return m;
}
