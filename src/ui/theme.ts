// Colour only when it is wanted: NO_COLOR turns every colour off.
export const color = (c: string): string | undefined => (process.env['NO_COLOR'] ? undefined : c);
