/** The gradient components the noise monitor measures, in the order every table, CSV and plot lists them. */
export const NOISE_COMPONENTS = ['policy', 'value', 'total'] as const;

/** `policy` excludes the entropy term; `total` is the whole loss the agent optimises. */
export type NoiseComponent = (typeof NOISE_COMPONENTS)[number];

export function isNoiseComponent(value: unknown): value is NoiseComponent {
  return (NOISE_COMPONENTS as readonly unknown[]).includes(value);
}
