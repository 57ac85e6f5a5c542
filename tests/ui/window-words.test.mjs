// The window never tells its user to type a command: every message it shows comes from the
// UI's own text or from the engine crates (the CLI adds its commands to the engine's
// sentences itself, in src-tauri/cli). This reads both, outside comments and test modules,
// for a command in backticks or a <code> element. Run with the other flows: node --test tests/ui/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const TOOLS = 'aws|docker|sudo|slipway|brew|apt-get|apt|systemctl|winget|choco|podman|colima|npm|curl';
const COMMAND = new RegExp(`(\`|<code>)(${TOOLS}) [^\`<]*(\`|</code>)`);

function files(dir, ends) {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && ends.some((end) => e.name.endsWith(end)))
    .map((e) => join(e.parentPath, e.name))
    .filter((f) => !/[\\/](tests|benches|target|node_modules)[\\/]/.test(relative(root, f)) && !/\.test\.ts$/.test(f));
}

/** The lines a user can see text from: test modules and comments left out. */
function shownLines(file) {
  let text = readFileSync(file, 'utf8');
  // A test module's block, up to its closing brace at the start of a line (`#[cfg(test)] mod x;`
  // declarations, which pull in a file of their own, are left in place).
  if (file.endsWith('.rs')) text = text.replace(/#\[cfg\(test\)\]\s*mod \w+ \{[\s\S]*?\n\}/g, '');
  return text
    .split('\n')
    .map((line, i) => ({ line: line.trim(), at: `${relative(root, file)}:${i + 1}` }))
    .filter(({ line }) => !line.startsWith('//') && !line.startsWith('*') && !line.startsWith('/*') && !line.startsWith('<!--'));
}

test('no window message or engine sentence tells the user to run a command', () => {
  const sources = [
    ...files(join(root, 'ui', 'src'), ['.svelte', '.ts']),
    ...files(join(root, 'src-tauri', 'engine'), ['.rs']),
    ...files(join(root, 'src-tauri', 'commands'), ['.rs']),
  ];
  assert.ok(sources.length > 50, `read only ${sources.length} files: is the layout the one this test expects?`);
  const shown = sources.map((file) => ({ file, lines: shownLines(file) }));
  const project = shown.find(({ file }) => file.endsWith(join('core', 'src', 'project', 'mod.rs')));
  assert.ok(project && project.lines.length > 150, 'a file with a test module declared early is still read past it');
  const found = shown.flatMap(({ lines }) => lines).filter(({ line }) => COMMAND.test(line));
  assert.deepEqual(
    found.map(({ at, line }) => `${at}: ${line}`),
    [],
    'say which button to press instead; the CLI adds its own commands (src-tauri/cli/src/output.rs next_step)',
  );
});
