// Bundles the extension into dist/main.js, and the results and analysis webviews, each with
// Chart.js, into media/results.js and media/analysis.js. The `vscode` module is provided by the editor at run time, so it stays
// external. The webview bundle is a browser script: the panel's Content Security Policy allows
// only that one file, so everything it needs must be inside it.
import * as esbuild from 'esbuild';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

const extension = {
  entryPoints: ['src/main.ts'],
  bundle: true,
  outfile: 'dist/main.js',
  external: ['vscode'],
  format: 'cjs',
  platform: 'node',
  target: 'node18',
  sourcemap: !production,
  minify: production,
  logLevel: 'info',
};

const webview = {
  entryPoints: ['webview/results/main.ts'],
  bundle: true,
  outfile: 'media/results.js',
  format: 'iife',
  platform: 'browser',
  // VS Code 1.82 ships Chromium 114.
  target: 'chrome114',
  sourcemap: false,
  minify: production,
  logLevel: 'info',
};

const analysisWebview = {
  ...webview,
  entryPoints: ['webview/analysis/main.ts'],
  outfile: 'media/analysis.js',
};

if (watch) {
  for (const options of [extension, webview, analysisWebview]) {
    const context = await esbuild.context(options);
    await context.watch();
  }
} else {
  await Promise.all([esbuild.build(extension), esbuild.build(webview), esbuild.build(analysisWebview)]);
}
