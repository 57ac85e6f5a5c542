// What the installers are made from: the icons of every platform (read as the OS reads
// them: the .ico directory, the .icns table of contents, each PNG's header) and the bundle
// configuration for Windows, macOS and Linux. `make icons` makes the icons; `make
// check-config` validates tauri.conf.json against the Tauri CLI's schema.
// Run with the other flows: node --test tests/ui/
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..', '..');
const config = JSON.parse(readFileSync(join(root, 'tauri.conf.json'), 'utf8'));

/** Width, height and colour type of a PNG, from its IHDR chunk. */
function pngHeader(bytes) {
  assert.equal(bytes.subarray(0, 8).toString('latin1'), '\x89PNG\r\n\x1a\n', 'a PNG signature');
  assert.equal(bytes.subarray(12, 16).toString('latin1'), 'IHDR');
  return { width: bytes.readUInt32BE(16), height: bytes.readUInt32BE(20), colourType: bytes[25] };
}

test('every icon the bundles name exists, and each PNG is square, RGBA and the size its name says', () => {
  for (const icon of config.bundle.icon) {
    assert.ok(existsSync(join(root, icon)), `${icon} is missing: run make icons`);
  }
  for (const [name, size] of [['32x32.png', 32], ['64x64.png', 64], ['128x128.png', 128], ['128x128@2x.png', 256], ['icon.png', 512], ['app-icon.png', 1024]]) {
    const header = pngHeader(readFileSync(join(root, 'icons', name)));
    assert.deepEqual(header, { width: size, height: size, colourType: 6 }, name);
  }
});

test('the Windows icon holds the sizes Explorer and the taskbar use, from 16 to 256 px', () => {
  assert.ok(config.bundle.icon.includes('icons/icon.ico'), 'tauri-build needs icons/icon.ico to compile on Windows');
  const ico = readFileSync(join(root, 'icons', 'icon.ico'));
  assert.deepEqual([ico.readUInt16LE(0), ico.readUInt16LE(2)], [0, 1], 'an ICONDIR of type icon');
  const count = ico.readUInt16LE(4);
  const sizes = [];
  for (let i = 0; i < count; i += 1) {
    const entry = 6 + i * 16;
    const width = ico[entry] === 0 ? 256 : ico[entry];
    const length = ico.readUInt32LE(entry + 8);
    const offset = ico.readUInt32LE(entry + 12);
    assert.ok(offset + length <= ico.length, `image ${i} lies inside the file`);
    sizes.push(width);
  }
  for (const wanted of [16, 32, 48, 256]) assert.ok(sizes.includes(wanted), `a ${wanted} px image in icon.ico (has ${sizes.join(', ')})`);
});

test('the macOS icon is an icns whose table of contents covers the file, with Retina sizes', () => {
  assert.ok(config.bundle.icon.includes('icons/icon.icns'));
  const icns = readFileSync(join(root, 'icons', 'icon.icns'));
  assert.equal(icns.subarray(0, 4).toString('latin1'), 'icns');
  assert.equal(icns.readUInt32BE(4), icns.length, 'the header gives the file length');
  const types = [];
  for (let at = 8; at < icns.length; ) {
    const length = icns.readUInt32BE(at + 4);
    assert.ok(length >= 8 && at + length <= icns.length, `the entry at ${at} fits`);
    types.push(icns.subarray(at, at + 4).toString('latin1'));
    at += length;
  }
  // ic10: 512@2x (1024 px), ic09: 512 px, ic07: 128 px.
  for (const wanted of ['ic10', 'ic09', 'ic07']) assert.ok(types.includes(wanted), `${wanted} in icon.icns (has ${types.join(', ')})`);
});

test('the bundles are NSIS and MSI on Windows, .app and DMG on macOS, .deb and AppImage on Linux', () => {
  const { bundle } = config;
  assert.equal(bundle.active, true);
  assert.deepEqual([...bundle.targets].sort(), ['app', 'appimage', 'deb', 'dmg', 'msi', 'nsis']);
  assert.equal(bundle.windows.nsis.installMode, 'currentUser', 'installs without administrator rights');
  assert.equal(bundle.windows.webviewInstallMode.type, 'downloadBootstrapper', 'WebView2 is fetched when Windows lacks it');
  assert.ok(bundle.macOS.minimumSystemVersion, 'the oldest macOS is named');
  assert.equal(bundle.macOS.hardenedRuntime, true, 'notarization needs the hardened runtime');
  assert.equal(bundle.linux.deb.section, 'devel');
});
