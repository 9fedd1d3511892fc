/** How often a maintenance phase runs (`routergpt maintain daily|weekly|monthly`); no imports: the CLI reads it at start-up. */
export const CADENCES = ['daily', 'weekly', 'monthly'] as const;
export type Cadence = (typeof CADENCES)[number];
