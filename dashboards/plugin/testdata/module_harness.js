// Loads static/module.js as Grafana's SystemJS would (an AMD define), with
// small stand-ins for the packages Grafana shares (react, @grafana/data,
// @grafana/runtime, @grafana/ui), and exercises what the module decides:
// the data source's variable expansion, query filter and variable
// queries, and what the editors change when a user picks or types.
// Exits 1 with a message on the first failure.
'use strict';
const fs = require('fs');
const assert = require('assert');

const src = fs.readFileSync(process.argv[2], 'utf8');
const resources = {
  zones: [{ zone: 'Z1-SIS' }, { zone: 'Z2-BPCS' }],
  conduits: [{ conduit: 'C1-BPCS-OPS' }],
  devices: [{ device: 'pa-c3' }],
  vocabulary: { severities: ['critical', 'high'], types: ['scan'] },
};
const variables = { zone: 'Z2-BPCS,Z3-OPS', conduit: 'C1-BPCS-OPS', severity: 'critical,high,medium,low,info' };
const current = { zone: { value: ['Z2-BPCS', 'Z3-OPS'] }, conduit: { value: 'C1-BPCS-OPS' }, severity: { value: ['$__all'] } };
const React = {
  createElement: (type, props, ...children) => ({ type, props: props || {}, children: children.flat() }),
  useState: (v) => [v, () => {}],
  useEffect: () => {},
};
class DataSourceWithBackend {
  constructor(settings) { this.instanceSettings = settings; }
  getResource(name) { return Promise.resolve(resources[name]); }
}
const runtime = {
  DataSourceWithBackend,
  getTemplateSrv: () => ({
    replace: (v, scoped, format) => v.replace(/\$\{?(\w+)\}?/g,
      (m, n) => (scoped && scoped[n] ? scoped[n].value : n in variables ? variables[n] : m)),
    getVariables: () => Object.keys(variables).map((name) => ({ name, current: current[name] })),
  }),
};
class DataSourcePlugin {
  constructor(ds) { this.DataSourceClass = ds; this.components = {}; }
  setConfigEditor(c) { this.components.ConfigEditor = c; return this; }
  setQueryEditor(c) { this.components.QueryEditor = c; return this; }
}
const ui = new Proxy({}, { get: (_, name) => String(name) });
let mod;
const define = (deps, factory) => {
  const shared = { react: React, '@grafana/data': { DataSourcePlugin }, '@grafana/runtime': runtime, '@grafana/ui': ui };
  deps.forEach((d) => assert.ok(d in shared, 'module.js needs ' + d + ', which Grafana does not share'));
  mod = factory(...deps.map((d) => shared[d]));
};
new Function('define', src)(define); // in this realm, as a browser's script would run

// find returns the elements of a rendered tree whose type is t and whose
// props match want.
function find(node, t, want) {
  const out = [];
  (function walk(n) {
    if (!n || typeof n !== 'object') return;
    if (Array.isArray(n)) { n.forEach(walk); return; }
    if (n.type === t && Object.keys(want || {}).every((k) => n.props[k] === want[k])) out.push(n);
    walk(n.props.children);
    walk(n.children);
  })(node);
  return out;
}

(async () => {
  const p = mod.plugin;
  assert.strictEqual(p.DataSourceClass, mod.OtsiemDataSource);
  assert.strictEqual(p.components.QueryEditor, mod.QueryEditor);
  assert.strictEqual(p.components.ConfigEditor, mod.ConfigEditor);

  const ds = new mod.OtsiemDataSource({ uid: 'otsiem-zones' });
  assert.deepStrictEqual(ds.getDefaultQuery(), { queryType: 'topology' });
  assert.strictEqual(ds.filterQuery({ queryType: 'matrix', hide: true }), false);
  assert.strictEqual(ds.filterQuery({ refId: 'A' }), false);
  assert.strictEqual(ds.filterQuery({ queryType: 'matrix' }), true);
  const q = ds.applyTemplateVariables({ refId: 'A', queryType: 'conduit', zones: ['$zone', 'Z1-SIS'], conduit: '$conduit', limit: 5 }, {});
  assert.deepStrictEqual(q.zones, ['Z2-BPCS,Z3-OPS', 'Z1-SIS']);
  assert.strictEqual(q.conduit, 'C1-BPCS-OPS');
  assert.strictEqual(q.limit, 5);
  // A variable on "All" filters nothing (an empty list), unless a
  // repeated panel gives it one value.
  const all = ds.applyTemplateVariables({ refId: 'A', queryType: 'findings', severities: ['${severity}'], zones: ['$zone'] }, {});
  assert.deepStrictEqual(all.severities, []);
  assert.deepStrictEqual(all.zones, ['Z2-BPCS,Z3-OPS']);
  assert.deepStrictEqual(ds.applyTemplateVariables({ severities: ['$severity'] }, { severity: { value: 'high' } }).severities,
    ['high']);
  assert.deepStrictEqual(await ds.metricFindQuery('zones'), [{ text: 'Z1-SIS', value: 'Z1-SIS' }, { text: 'Z2-BPCS', value: 'Z2-BPCS' }]);
  assert.deepStrictEqual(await ds.metricFindQuery({ query: 'devices' }), [{ text: 'pa-c3', value: 'pa-c3' }]);
  await assert.rejects(ds.metricFindQuery('assets'), /want zones, conduits or devices/);

  // The query editor: a findings query offers severities, types and a
  // limit; picking another query type changes the query and runs it.
  let changed = null;
  let ran = 0;
  const props = { query: { refId: 'A', queryType: 'findings', severities: ['critical'] }, datasource: ds,
    onChange: (v) => { changed = v; }, onRunQuery: () => { ran++; } };
  const tree = mod.QueryEditor(props);
  const radios = find(tree, 'RadioButtonGroup');
  assert.strictEqual(radios.length, 1);
  assert.deepStrictEqual(radios[0].props.options.map((o) => o.value), ['topology', 'matrix', 'conduit', 'findings']);
  radios[0].props.onChange('matrix');
  assert.strictEqual(changed.queryType, 'matrix');
  assert.strictEqual(ran, 1);
  const multis = find(tree, 'MultiSelect');
  assert.strictEqual(multis.length, 4, 'zones, conduits, severities, types');
  const sev = multis.find((m) => m.props.value.includes('critical'));
  sev.props.onChange([{ value: 'critical' }, { value: 'high' }]);
  assert.deepStrictEqual(changed.severities, ['critical', 'high']);
  assert.ok(sev.props.options.some((o) => o.value === '$zone'), 'variables are offered');
  assert.strictEqual(find(tree, 'Input').length, 1, 'limit');
  const conduitTree = mod.QueryEditor(Object.assign({}, props, { query: { refId: 'A', queryType: 'conduit' } }));
  assert.strictEqual(find(conduitTree, 'Select').length, 1, 'a conduit query asks for its conduit');
  assert.strictEqual(find(conduitTree, 'MultiSelect').length, 1, 'and zones only');

  // The configuration page: plain settings go to jsonData, secrets to
  // secureJsonData, a stored secret can be reset and is never shown.
  let opts = null;
  const options = { jsonData: { clickhouseDatabase: 'otsiem' }, secureJsonFields: { clickhousePassword: true }, secureJsonData: {} };
  const cfg = mod.ConfigEditor({ options, onOptionsChange: (o) => { opts = o; } });
  const inputs = find(cfg, 'Input');
  assert.strictEqual(inputs.length, 6, 'address, database, user, NATS URL, user, credentials file');
  inputs[0].props.onChange({ currentTarget: { value: '127.0.0.1:8123' } });
  assert.strictEqual(opts.jsonData.clickhouseAddress, '127.0.0.1:8123');
  assert.strictEqual(opts.jsonData.clickhouseDatabase, 'otsiem');
  const secrets = find(cfg, 'SecretInput');
  assert.strictEqual(secrets.length, 4, 'ClickHouse password, NATS password, token, NKey seed');
  assert.strictEqual(secrets[0].props.isConfigured, true);
  assert.strictEqual(secrets[0].props.value, '');
  secrets[0].props.onReset();
  assert.strictEqual(opts.secureJsonFields.clickhousePassword, false);
  secrets[1].props.onChange({ currentTarget: { value: 'reader-secret' } });
  assert.strictEqual(opts.secureJsonData.natsPassword, 'reader-secret');
  assert.ok(!('natsPassword' in opts.jsonData), 'a secret never goes to jsonData');
  find(cfg, 'InlineSwitch')[0].props.onChange({ currentTarget: { checked: true } });
  assert.strictEqual(opts.jsonData.clickhouseSecure, true);
  console.log('module.js: ok');
})().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
