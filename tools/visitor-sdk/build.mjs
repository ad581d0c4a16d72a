// Bundle entry.js into one vendored browser file plus the licences of everything inside it.
// Run through build.sh (it installs the pinned packages first). The output is committed;
// CI never runs this.
import { build } from 'esbuild';
import { readFileSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, '..', '..', 'agentbot', 'sandbox', 'static', 'vendor');
const outFile = join(outDir, 'smartsupp-visitor.js');

const result = await build({
  entryPoints: [join(here, 'entry.js')],
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['es2017'],
  minify: true,
  legalComments: 'none',
  metafile: true,
  outfile: outFile,
  banner: {
    js: '/* smartsupp-websocket + socket.io-client 2.x browser bundle for the agentbot sandbox. ' +
      'Built by tools/visitor-sdk/build.sh; licences in THIRD_PARTY_LICENSES.txt beside this file. */',
  },
});

// Old component packages declare their licence only in their Readme ("## License  MIT").
const README_LICENCES = { 'component-bind': 'MIT', 'component-inherit': 'MIT', indexof: 'MIT' };

// Every npm package that contributed a file to the bundle, with its licence text.
const packages = new Map();
for (const input of Object.keys(result.metafile.inputs)) {
  const match = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (match) packages.set(match[1], true);
}
const sections = [];
for (const name of [...packages.keys()].sort()) {
  const dir = join(here, 'node_modules', name);
  const meta = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  meta.license = meta.license ?? meta.licenses?.[0]?.type ?? README_LICENCES[name];
  if (!meta.license) throw new Error(`no licence known for ${name}: check it by hand`);
  const licenceFile = readdirSync(dir).find((f) => /^(licen[cs]e|copying)([.-]|$)/i.test(f));
  let text;
  if (licenceFile) {
    text = readFileSync(join(dir, licenceFile), 'utf8').trim();
  } else {
    // Some packages (smartsupp-websocket among them) ship no licence file, only the SPDX id.
    text = `${meta.license} licence (declared by the package, which ships no licence file).`;
    if (meta.license === 'MIT') {
      text += '\n\n' + readFileSync(join(here, 'MIT.txt'), 'utf8').replace('<AUTHOR>', meta.author?.name ?? meta.author ?? name).trim();
    }
  }
  sections.push(`${name}@${meta.version} (${meta.license})\n${'-'.repeat(72)}\n${text}\n`);
}
const header = 'Third-party software bundled in smartsupp-visitor.js\n' + '='.repeat(72) + '\n\n';
writeFileSync(join(outDir, 'THIRD_PARTY_LICENSES.txt'), header + sections.join('\n'));
console.log(`wrote ${outFile} with ${packages.size} packages`);
if (!existsSync(outFile)) process.exit(1);
