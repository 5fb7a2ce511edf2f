// Builds the one-file embed: node build.mjs <outdir> (run by `make widget`).
//
// <outdir>/widget.js   widget.js with socket.io-client bundled (IIFE, minified)
// <outdir>/widget.css  its stylesheet, minified
//
// The stylesheet's SRI hash is compiled into widget.js, which loads it with that
// integrity: the embed snippet's one hash (of widget.js) covers both files.
// Prints both hashes and the snippet. The output depends only on the sources and
// the locked esbuild and socket.io-client (the Makefile builds twice and compares).
import { createHash } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const here = dirname(fileURLToPath(import.meta.url));
const outdir = process.argv[2];
if (!outdir) {
  console.error("usage: node build.mjs <outdir>");
  process.exit(2);
}

const sri = (bytes) => "sha384-" + createHash("sha384").update(bytes).digest("base64");
// es2019: the oldest phone browsers still in use (Safari 12.1 / iOS 12.2 and later).
const common = { bundle: true, minify: true, write: false, target: "es2019", logLevel: "warning" };

const css = (await build({ ...common, entryPoints: [join(here, "widget.css")] })).outputFiles[0].contents;
const js = (await build({
  ...common,
  entryPoints: [join(here, "widget.js")],
  format: "iife",
  platform: "browser",
  define: { WIDGET_CSS_INTEGRITY: JSON.stringify(sri(css)) },
})).outputFiles[0].contents;

mkdirSync(outdir, { recursive: true });
writeFileSync(join(outdir, "widget.css"), css);
writeFileSync(join(outdir, "widget.js"), js);

console.log(`widget.js   ${js.length} bytes  ${sri(js)}`);
console.log(`widget.css  ${css.length} bytes  ${sri(css)} (checked by widget.js)`);
console.log(`
Embed snippet (host both files together; README.md, "The web chat widget"):

<script src="https://YOUR-SITE/chat/widget.js" defer crossorigin="anonymous"
        integrity="${sri(js)}"
        data-config='{"server": "https://chat.your-clinic.example", "language": "en"}'></script>`);
