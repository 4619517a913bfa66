import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { CONTRACTS, GENERATED_FILE, generate } from '../../scripts/contracts.js';
import { CONTRACT_SCHEMAS, contractErrors } from '../../src/contracts/validate.js';
import {
  ContractFileError,
  readContract,
  readContractLines,
  RUN_FOLDER_FILES,
  runFolderProblems,
} from '../../src/contracts/read.js';

// One source per contract: the JSON Schemas in schema/. The TypeScript types are generated from them, every schema
// is one the validators and the generator know, and every run-folder file is read through the one validating reader.

const SCHEMA = path.resolve(__dirname, '../../schema');

describe('contracts from their schemas', () => {
  it('src/contracts/generated/contracts.ts is current (run `npm run contracts`)', async () => {
    expect(fs.readFileSync(GENERATED_FILE, 'utf8')).toBe(await generate());
  }, 30_000);

  it('every schema in schema/ is generated and validated, and every run-folder file has one', () => {
    const files = fs.readdirSync(SCHEMA).filter((f) => f !== 'common.schema.json');
    expect(Object.values(CONTRACT_SCHEMAS).sort()).toEqual(files.sort());
    expect(
      Object.keys(CONTRACTS)
        .map((n) => `${n}.schema.json`)
        .sort(),
    ).toEqual(files.sort());
    for (const kind of Object.values(RUN_FOLDER_FILES)) expect(Object.keys(CONTRACT_SCHEMAS)).toContain(kind);
  });

  it('the reader names the file and the line or field of what is wrong, and says what to do', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tlr-contract-'));
    const write = (f: string, text: string) => fs.writeFileSync(path.join(dir, f), text);
    write('engine.json', '{"engine": "tfjs", "settings": {"nproc": [1]}}');
    write('labels.json', '["a"');
    write('metrics.jsonl', `${JSON.stringify(row(1))}\n{"stage": 1, "epoch": 2}\n`);
    const message = (f: () => unknown) => {
      try {
        f();
      } catch (e) {
        expect(e).toBeInstanceOf(ContractFileError);
        return (e as Error).message;
      }
      return '';
    };
    expect(message(() => readContract('engine', path.join(dir, 'engine.json')))).toMatch(
      /engine\.json is damaged: not a valid engine file \(schema\/run-engine\.schema\.json\): \/settings\/nproc must be/,
    );
    expect(message(() => readContract('labels', path.join(dir, 'labels.json')))).toMatch(
      /labels\.json is damaged: not JSON .*restore it, or run the recipe again/,
    );
    expect(message(() => readContractLines('metrics', path.join(dir, 'metrics.jsonl')))).toMatch(
      /metrics\.jsonl:2 is damaged: .*must have required property 'loss'/,
    );
    expect(message(() => readContract('plan', path.join(dir, 'plan.json')))).toMatch(/plan\.json does not exist/);
    // A half-written last line (a killed process) is left out where the caller allows it.
    write('metrics.jsonl', `${JSON.stringify(row(1))}\n{"stage": 1, "ep`);
    expect(readContractLines('metrics', path.join(dir, 'metrics.jsonl'), { lastMayBeCut: true })).toHaveLength(1);
    // A JSON file the table does not know is a file without a schema.
    fs.rmSync(path.join(dir, 'labels.json'));
    write('extra.json', '{}');
    expect(runFolderProblems(dir).join('\n')).toMatch(/extra\.json: a JSON file with no schema/);
    fs.rmSync(dir, { recursive: true });
  });

  it('the events schema tells the event types apart (an error is about the event that has the type)', () => {
    expect(contractErrors('event', { type: 'warning', message: 'w' })).toEqual([]);
    expect(contractErrors('event', { type: 'warning', text: 'w' }).join()).toMatch(/message/);
    expect(contractErrors('event', { type: 'warning', text: 'w' }).join()).not.toMatch(/runDir/);
  });
});

function row(epoch: number) {
  return {
    stage: 1,
    epoch,
    loss: 1,
    accuracy: 0.5,
    val_loss: 1,
    val_accuracy: 0.5,
    lr: 0.001,
    seconds: 1,
    best: true,
    time: '2026-12-07T10:00:00Z',
  };
}
