import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

// Every shell carries out every effect through one table typed EffectHandlers
// (core/src/protocol/effects.ts). This proves the point of the type: it compiles the three
// shells against an Effect union with one more variant and expects each shell's table to be
// a compile error that names the new effect.
const root = fileURLToPath(new URL('../..', import.meta.url));
const effectsFile = `${root}core/src/protocol/effects.ts`;
const shells = ['core/src/node/runtime/jobRunner.ts', 'simulator/src/run/simShell.ts', 'core/src/protocol/driver/inMemoryDriver.ts'];

function compileWithExtraEffect(): Map<string, string[]> {
  const base = ts.getParsedCommandLineOfConfigFile(`${root}tsconfig.base.json`, {}, { ...ts.sys, onUnRecoverableConfigFileDiagnostic: () => undefined })!;
  // Sources, not builds: resolve workspace packages through their `source` export condition.
  const options: ts.CompilerOptions = { ...base.options, noEmit: true, composite: false, declaration: false, declarationMap: false, sourceMap: false, customConditions: ['source'] };
  const original = readFileSync(effectsFile, 'utf8');
  const patched = original
    .replace('export type Effect =\n', "export interface ProbeEffect { readonly type: 'probeEffect'; readonly job: string }\nexport type Effect =\n  | ProbeEffect\n");
  expect(patched).not.toBe(original);
  const host = ts.createCompilerHost(options);
  const read = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) =>
    fileName === effectsFile ? ts.createSourceFile(fileName, patched, languageVersion) : read(fileName, languageVersion, onError, shouldCreate);
  const program = ts.createProgram(shells.map((f) => `${root}${f}`), options, host);
  const errors = new Map<string, string[]>();
  for (const d of ts.getPreEmitDiagnostics(program)) {
    if (d.category !== ts.DiagnosticCategory.Error || !d.file) continue;
    const file = d.file.fileName.slice(root.length);
    errors.set(file, [...(errors.get(file) ?? []), ts.flattenDiagnosticMessageText(d.messageText, '\n')]);
  }
  return errors;
}

describe('EffectHandlers', () => {
  it('makes an Effect variant that a shell does not handle a compile error in every shell', () => {
    const errors = compileWithExtraEffect();
    for (const shell of shells) {
      expect(errors.get(shell)?.join('\n') ?? `no error in ${shell}`, shell).toMatch(/probeEffect/);
    }
    // And nowhere else: the error is the missing handler, not a side effect of the patch.
    expect([...errors.keys()].filter((f) => !shells.includes(f))).toEqual([]);
  }, 300_000);
});
