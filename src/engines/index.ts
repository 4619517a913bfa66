import { UsageError } from '../errors.js';
import { readEngineRecord } from '../runtime/run-folder.js';
import { INT8_CALIBRATION } from '../contracts/plan.js';
import { tfjsEngine } from './tfjs/index.js';
import { torchEngine } from './torch/index.js';
import type {
  EngineDef,
  EngineFlag,
  EngineSettings,
  FlagValues,
  ModelService,
  RecipeExport,
  RunRequest,
  RunResult,
} from './types.js';

// The engines that run a plan, one row each, as tfjs registers its backends: every command that
// runs, resumes, plans, exports, opens a model folder or asks the doctor goes through this table,
// and adding an engine is one folder under src/engines/ and one row here. Each row's module is
// light: choosing one engine never loads another (nor TensorFlow.js for torch).

export type * from './types.js';

const TABLE = new Map<string, EngineDef>([
  [tfjsEngine.name, tfjsEngine],
  [torchEngine.name, torchEngine],
]);

/** `tlr export --int8`'s defaults: training images calibrated on, and the largest fall in accuracy (points) allowed. */
export const INT8_DEFAULTS = { calibration: INT8_CALIBRATION.images, gate: 1 } as const;

/** The engine `tlr run` uses when none is named. */
export const DEFAULT_ENGINE = 'tfjs';

/** Every engine, in the table's order. */
export const engines = (): readonly EngineDef[] => [...TABLE.values()];

/** Adds an engine at run time (a plugin, or a test's fake engine); its name must be new. */
export function registerEngine(def: EngineDef): () => void {
  if (TABLE.has(def.name)) throw new Error(`an engine named ${def.name} is registered already`);
  TABLE.set(def.name, def);
  return () => void TABLE.delete(def.name);
}

/** The engine a --engine value names; a UsageError lists the engines when none does. */
export function engineNamed(name: string): EngineDef {
  const e = TABLE.get(name);
  if (!e) throw new UsageError(`--engine ${name}: the engines are ${[...TABLE.keys()].join(', ')}`);
  return e;
}

/** The engine that made a run folder: the one its engine.json names, else (older folders) the first that owns it. */
export function engineOfRun(dir: string): EngineDef {
  const recorded = readEngineRecord(dir)?.engine;
  if (recorded) return engineNamed(recorded);
  return engines().find((e) => e.ownsRun(dir)) ?? engineNamed(DEFAULT_ENGINE);
}

/** The engine a run folder is resumed on, and the settings it recorded (null for older folders). */
export function resumeOf(dir: string): { engine: EngineDef; recorded: EngineSettings | null } {
  return {
    engine: engineOfRun(dir),
    recorded: (readEngineRecord(dir)?.settings as EngineSettings | undefined) ?? null,
  };
}

/** Every engine's run flags, by long name, with the engine that owns each. */
export function engineFlags(): ReadonlyMap<string, { engine: string; flag: EngineFlag }> {
  const out = new Map<string, { engine: string; flag: EngineFlag }>();
  for (const e of engines())
    for (const [name, flag] of Object.entries(e.flags)) out.set(name, { engine: e.name, flag });
  return out;
}

/**
 * The settings `engine` runs with: its flags (a flag of another engine is a usage error naming
 * it) over what a resumed run recorded.
 */
export async function settle(engine: EngineDef, flags: FlagValues, recorded?: EngineSettings): Promise<EngineSettings> {
  const foreign = [...engineFlags()].filter(
    ([name, f]) => f.engine !== engine.name && flags[name] !== undefined && flags[name] !== false,
  );
  if (foreign.length) {
    const names = foreign.map(([n]) => `--${n}`).join(', ');
    const owner = foreign[0]![1].engine;
    throw new UsageError(
      `${names} ${foreign.length > 1 ? 'are options' : 'is an option'} of the ${owner} engine: add --engine ${owner}`,
    );
  }
  return engine.settle(flags, recorded);
}

/** The service that opens model folders: the first engine that offers one. */
export async function models(): Promise<ModelService> {
  const e = engines().find((x) => x.models);
  if (!e?.models) throw new UsageError('no engine here opens model folders');
  return e.models();
}

/** The first engine with the learning-rate finder. */
export function lrFinder(): NonNullable<EngineDef['lrFind']> {
  const e = engines().find((x) => x.lrFind);
  if (!e?.lrFind) throw new UsageError('no engine here has the learning-rate finder');
  return e.lrFind;
}

/** Every recipe export, by its `tlr export` flag. */
export const recipeExports = (): readonly RecipeExport[] => engines().flatMap((e) => e.exports);

/** Runs a request on an engine, handing it the model-folder service. */
export async function runOn(engine: EngineDef, req: Omit<RunRequest, 'models'>): Promise<RunResult> {
  return engine.run({ ...req, models });
}

/**
 * Runs on the engine `name` with its flags (a resume keeps the run's recorded settings): for scripts, benches and
 * tests.
 */
export async function runEngine(
  name: string,
  req: Omit<RunRequest, 'models' | 'settings'> & { flags?: FlagValues },
): Promise<RunResult> {
  const engine = engineNamed(name);
  const recorded = req.resume ? (resumeOf(req.resume).recorded ?? undefined) : undefined;
  return runOn(engine, { ...req, settings: await settle(engine, req.flags ?? {}, recorded) });
}
