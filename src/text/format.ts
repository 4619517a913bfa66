// Text that both the plain reporter (cli/) and the live view (ui/) show: numbers as people write them.
/** A learning rate as people write it: 0.003, 1e-5. */
export const formatLr = (n: number): string => (n < 1e-3 ? n.toExponential(1).replace('.0e', 'e').replace('e-0', 'e-') : String(+n.toPrecision(3)));
