/**
 * The gateway's layering, as rules that CI checks (`npm run lint:deps`).
 *
 * Layers, bottom to top:
 *   src/core/      the neutral types and helpers everything else speaks (Deployment, UpstreamError, ...)
 *   src/config/    the config schema, its type and loader: may use core only
 *   providers/     the adapters to OpenAI, Anthropic, Gemini, ...: may use core and config only, no web framework
 *   src/usage/     ledger, pricing, token counting: never the request pipeline, the HTTP edge, access or providers
 *   src/routing/   the balancer: never the request pipeline or the HTTP edge
 *   ...            the rest of src/ (pipeline, access, cache, prompts, services, control, http, plugins)
 *   src/routes/    the HTTP routes: only src/app.ts (and other routes) may import them
 *
 * Only src/ and providers/ are held to the layering rules. test/ and load-tests/
 * are cruised too, but only so that an import that resolves to nothing is caught there.
 */

/** Everything this repository owns, as opposed to node_modules and node's own modules. */
const APP = '^(src|providers)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    // ---------------------------------------------------------------- layers
    {
      name: 'core-is-the-bottom-layer',
      severity: 'error',
      comment:
        'src/core/ is the bottom layer: it imports nothing from src/ outside src/core/ and nothing from providers/. ' +
        'Move what core needs into core, or pass it in from the layer above.',
      from: { path: '^src/core/' },
      to: { path: APP, pathNot: '^src/core/' },
    },
    {
      name: 'config-only-uses-core',
      severity: 'error',
      comment:
        'src/config/ (schema, types, loader) may import only src/core/ and itself from src/, and nothing from providers/.',
      from: { path: '^src/config/' },
      to: { path: APP, pathNot: '^src/(core|config)/' },
    },
    {
      name: 'providers-only-use-core-and-config',
      severity: 'error',
      comment:
        'providers/ may import only providers/, src/core/ and src/config/ (plus npm packages and node built-ins): ' +
        'never the pipeline, routes, usage, access, plugins, http, cache, ... An adapter that needs something from ' +
        'there gets it through the Adapter interface in src/core/.',
      from: { path: '^providers/' },
      to: {
        couldNotResolve: false,
        dependencyTypesNot: ['core'],
        pathNot: ['^(providers|src/core|src/config)/', '(^|/)node_modules/'],
      },
    },
    {
      name: 'providers-not-to-fastify',
      severity: 'error',
      comment:
        'providers/ know nothing of the web framework: no fastify, @fastify/* or fastify-plugin, not even for types. ' +
        'The HTTP edge (src/routes, src/http, src/plugins) translates between fastify and the neutral core types.',
      from: { path: '^providers/' },
      to: { path: ['(^|/)node_modules/(fastify|fastify-plugin|@fastify/[^/]+)/', '^(fastify|fastify-plugin|@fastify/[^/]+)$'] },
    },
    {
      name: 'usage-not-to-pipeline-edge-access-providers',
      severity: 'error',
      comment:
        'src/usage/ (ledger, pricing, token counting) never imports src/pipeline/, src/routes/, src/http/, ' +
        'src/access/ or providers/: they report usage to it, not the other way round.',
      from: { path: '^src/usage/' },
      to: { path: '^(src/(pipeline|routes|http|access)|providers)/' },
    },
    {
      name: 'routing-not-to-pipeline-or-edge',
      severity: 'error',
      comment:
        'src/routing/ (the balancer) never imports src/pipeline/, src/routes/ or src/http/: the pipeline asks the ' +
        'balancer for a deployment and reports the outcome back.',
      from: { path: '^src/routing/' },
      to: { path: '^src/(pipeline|routes|http)/' },
    },
    {
      name: 'routes-are-not-libraries',
      severity: 'error',
      comment:
        'Only src/app.ts and other routes import from src/routes/. Something a second module needs does not ' +
        'belong in a route file: move it to src/http/ (edge helpers), src/pipeline/ or the feature folder.',
      from: { path: APP, pathNot: ['^src/app[.]ts$', '^src/routes/'] },
      to: { path: '^src/routes/' },
    },

    // ---------------------------------------------------------------- cycles
    {
      name: 'no-circular-folders',
      severity: 'error',
      scope: 'folder',
      comment:
        'Two folders of src/ or providers/ depend on each other (directly or through other folders). ' +
        'Decide which one is the lower layer and move the shared piece down (often into src/core/).',
      from: { path: APP },
      to: { path: APP, circular: true },
    },
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'This dependency is part of a cycle between modules. Break it: move the shared piece into a module ' +
        'both can import, or invert the dependency (pass a function or an interface in).',
      from: { path: APP },
      to: { path: APP, circular: true },
    },

    // ---------------------------------------------------------------- hygiene
    {
      name: 'no-orphans',
      severity: 'warn',
      comment:
        'This module is imported by nothing and imports nothing: likely dead code. Remove it, or if it is an ' +
        'entry point add it to pathNot of this rule.',
      from: {
        orphan: true,
        path: APP,
        pathNot: [
          '^src/server[.]ts$', // the process entry point
          '[.]d[.]ts$',
        ],
      },
      to: {},
    },
    {
      name: 'not-to-dev-dep',
      severity: 'error',
      comment:
        "src/ and providers/ ship to production, where 'npm ci --omit=dev' leaves devDependencies out. " +
        "Move the package to 'dependencies', or import it with 'import type' if only its types are needed.",
      from: { path: APP },
      to: {
        dependencyTypes: ['npm-dev'],
        // type-only imports are erased by tsc, so they never need the package at run time
        dependencyTypesNot: ['type-only'],
        pathNot: ['(^|/)node_modules/@types/'],
      },
    },
    {
      name: 'no-non-package-json',
      severity: 'error',
      comment:
        "This module imports an npm package that package.json does not declare (it is only there because " +
        "another package pulls it in). Add it to 'dependencies' (or 'devDependencies' for test code).",
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'not-to-unresolvable',
      severity: 'error',
      comment: 'This import resolves to no file on disk and no package. Fix the path, or add the package.',
      from: {},
      to: {
        couldNotResolve: true,
        // The console's browser code imports uPlot from ./vendor/, which src/routes/ui.ts serves out of
        // node_modules/uplot at run time: there is no such file on disk, by design.
        pathNot: [
          '^[.]/vendor/uplot[.]esm[.]js$',
          // The k6 scripts in load-tests/k6/ import k6's modules, which are built into the k6 binary, not npm.
          '^k6(/|$)',
        ],
      },
    },
  ],

  options: {
    // Follow our own modules; record but do not descend into npm packages.
    doNotFollow: { path: ['node_modules'] },

    // The build output is not source.
    exclude: { path: ['^dist/'] },

    moduleSystems: ['es6', 'cjs', 'tsd'],

    // Count dependencies that exist only before compilation too (`import type`, type-only re-exports):
    // a type-only import still couples two layers.
    tsPreCompilationDeps: true,

    // Resolve like tsc does with this project's tsconfig (NodeNext).
    tsConfig: { fileName: 'tsconfig.json' },

    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      mainFields: ['module', 'main', 'types', 'typings'],
      // ESM TypeScript: `import ... from './x.js'` names ./x.ts. dependency-cruiser resolves that like tsc does
      // (when ./x.js does not exist it retries ./x.ts, ./x.tsx, ./x.d.ts; .mjs -> .mts, .cjs -> .cts), so no
      // alias is needed here (its schema has no extensionAlias). Real .js files (src/ui/) resolve as they are.
      extensions: ['.ts', '.d.ts', '.js', '.mjs', '.cjs', '.json'],
    },

    skipAnalysisNotInRules: true,

    reporterOptions: {
      archi: {
        collapsePattern: '^(?:src|providers)/[^/]+|node_modules/(?:@[^/]+/[^/]+|[^/]+)',
      },
      dot: {
        collapsePattern: 'node_modules/(?:@[^/]+/[^/]+|[^/]+)',
      },
      text: { highlightFocused: true },
    },
  },
};
