/**
 * What the five MinAtar games share (Young & Tian 2019, kenjyoung/MinAtar @4241f24): the 10×10×C boolean frame,
 * the minimal action set mapped onto the original's six action ids, and the original's sticky actions.
 *
 * - Frame: `obs[(row * 10 + col) * C + channel]` (row 0 at the top, channels last), 0/1 floats, redrawn from the
 *   game state after every step.
 * - Actions: the agent picks an index into the game's minimal action set; the game sees the original's id
 *   (0 no-op, 1 left, 2 up, 3 right, 4 down, 5 fire).
 * - Sticky actions, with the original's quirks: one uniform draw every step (also when `stickyProb` is 0); where it
 *   falls below `stickyProb` the previous executed action is repeated. The previous action starts at 0 (no-op) and
 *   is carried across episodes of one copy (auto-reset keeps it); only `reset(seed)`, which stands for a fresh
 *   `Environment` + `seed()`, sets it back to 0.
 * - Time limit: the original has none (only Freeway ends itself, at 2,501 steps). `MINATAR_MAX_EPISODE_STEPS` =
 *   10,000 truncates episodes that would never end otherwise (Seaquest's sub idling at the surface, a Breakout paddle
 *   that never misses): it is the step cap under which the reference statistics were taken (no random episode came
 *   near it; the longest was 402 steps) and the limit Gym-MinAtar registers.
 *
 * Every mutable piece of game state lives in a typed-array field (one entry, or a fixed block, per copy) or a number,
 * so that env state can be snapshotted generically; the fields are public for tests and such snapshots.
 */
import type { ParamSpec } from '../../src/core/env-spec.js';
import { Box, Discrete } from '../../src/core/spaces.js';
import { ArrayEnv, type EnvParams } from '../../src/core/vector-env.js';

export const GRID = 10;
export const MINATAR_MAX_EPISODE_STEPS = 10_000;

/**
 * The original's action ids. Game files copy them into module constants (`const { LEFT } = ACTIONS`): tsx turns an
 * imported binding into a getter call, which costs a third of a step when read in the hot loop.
 */
export const ACTIONS = Object.freeze({ NOOP: 0, LEFT: 1, UP: 2, RIGHT: 3, DOWN: 4, FIRE: 5 });

export interface MinAtarParams {
  [key: string]: number;
  stickyProb: number;
  ramping: number;
}

/** The two params every game takes, as in the original's `Environment(sticky_action_prob, difficulty_ramping)`. */
export function minatarParams(rampingDoc: string): { stickyProb: ParamSpec; ramping: ParamSpec } {
  return {
    stickyProb: { default: 0.1, min: 0, max: 1, doc: 'probability per step that the previous action is repeated instead (one draw every step)' },
    ramping: { default: 1, min: 0, max: 1, integer: true, doc: rampingDoc },
  };
}

/** The sticky-action part of every game's ladder: 0.1 (standard) → 0.3. */
export const STICKY_LADDER = [0.1, 0.15, 0.2, 0.25, 0.3] as const;

export abstract class MinAtarEnv<P extends MinAtarParams & EnvParams> extends ArrayEnv<P> {
  /** Channels C of the frame. */
  readonly channels: number;
  /** Minimal action index → the original's action id. */
  private readonly actionIds: Int32Array;
  /** Last executed action (original id) per copy. */
  readonly lastAction: Int32Array;

  protected constructor(id: string, numEnvs: number, params: Readonly<P>, maxEpisodeSteps: number, channels: number, minimalActions: readonly number[]) {
    super({
      id,
      numEnvs,
      params,
      observationSpace: new Box(0, 1, [GRID, GRID, channels]),
      actionSpace: new Discrete(minimalActions.length),
      maxEpisodeSteps,
    });
    this.channels = channels;
    this.actionIds = Int32Array.from(minimalActions);
    this.lastAction = new Int32Array(numEnvs);
  }

  /** Start copy `i`'s game (the original's `Env.reset`), drawing from `this.rng`. */
  protected abstract startGame(i: number): void;

  /** Advance copy `i`'s game by one step with the original's action id; returns the reward, sets `terminated[i]`. */
  protected abstract act(i: number, action: number): number;

  /** Write copy `i`'s frame (the original's `Env.state`) into `obs`; the slice is already cleared. */
  protected abstract draw(i: number, obs: Float32Array, offset: number): void;

  override reset(seed?: number): Float32Array {
    if (seed !== undefined) this.lastAction.fill(0);
    return super.reset(seed);
  }

  protected resetEnv(i: number): void {
    this.startGame(i);
    this.redraw(i);
  }

  /** Rewrite copy `i`'s observation from its game state (tests that set state fields call this). */
  redraw(i: number): void {
    const size = this.obsSize;
    const offset = i * size;
    this.obs.fill(0, offset, offset + size);
    this.draw(i, this.obs, offset);
  }

  protected stepEnvs(actions: ArrayLike<number>): void {
    const sticky = this.params.stickyProb;
    const ids = this.actionIds;
    const last = this.lastAction;
    const rewards = this.rewards;
    const terminated = this.terminated;
    for (let i = 0; i < this.numEnvs; i++) {
      const action = this.rng.uniform() < sticky ? last[i]! : ids[actions[i]!]!;
      last[i] = action;
      terminated[i] = 0;
      rewards[i] = this.act(i, action);
      this.redraw(i);
    }
  }

  /** Set channel `channel` of cell (row, col) in a frame that starts at `offset`. */
  protected mark(obs: Float32Array, offset: number, row: number, col: number, channel: number): void {
    obs[offset + (row * GRID + col) * this.channels + channel] = 1;
  }
}
