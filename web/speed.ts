/*
 * Speed classes for the map: colour and size both encode the class, and the legend names it, so the map reads
 * without telling colours apart. The palette is viridis (ordered, colour-blind safe), dark to light.
 */

export interface SpeedClass {
  label: string;
  /** Upper bound, m/s, exclusive. */
  below: number;
  color: string;
  radius: number;
}

export const SPEED_CLASSES: readonly SpeedClass[] = [
  { label: 'still, < 0.5 m/s', below: 0.5, color: '#440154', radius: 3 },
  { label: 'walking, 0.5–2.5 m/s', below: 2.5, color: '#3b528b', radius: 3.75 },
  { label: 'running, cycling, 2.5–7 m/s', below: 7, color: '#21918c', radius: 4.5 },
  { label: 'driving, 7–15 m/s', below: 15, color: '#5ec962', radius: 5.25 },
  { label: 'fast, ≥ 15 m/s', below: Infinity, color: '#fde725', radius: 6 },
];

export const NO_SPEED: SpeedClass = { label: 'speed not reported', below: NaN, color: '#9ca3af', radius: 3 };

export function speedClass(speed: number | null): SpeedClass {
  if (speed === null) return NO_SPEED;
  return SPEED_CLASSES.find((c) => speed < c.below) ?? SPEED_CLASSES[SPEED_CLASSES.length - 1]!;
}
