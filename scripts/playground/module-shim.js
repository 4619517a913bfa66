// node:module's createRequire, for the one file that reads JSON with it: the plan's schema,
// bundled into the page instead of read from disk.
import planSchema from '../../schema/plan.schema.json';

export const createRequire = () => (p) => {
  if (p.endsWith('plan.schema.json')) return planSchema;
  throw new Error(`the playground cannot load ${p}`);
};
