/*
 * otsiem-zones-datasource: the front end of otsiem's Grafana data source.
 *
 * Hand-written AMD module (no bundler, no JSX): Grafana loads module.js with
 * SystemJS and hands it the packages it shares with plugins. Everything the
 * panels show comes from the backend (gpx_otsiem): this file only builds the
 * queries and the settings.
 *
 * A query (the JSON the backend reads, package dashboards/zones):
 *   {queryType: "topology" | "matrix" | "conduit" | "findings",
 *    sites, zones, conduits: [..]   filters, empty for all; entries may be $variables
 *    conduit: "C1-BPCS-OPS"         conduit query: the conduit shown
 *    severities, types: [..]        findings filters
 *    limit: 100}                    findings: at most this many
 */
define(['react', '@grafana/data', '@grafana/runtime', '@grafana/ui'], function (React, data, runtime, ui) {
  'use strict';
  var h = React.createElement;

  var QUERY_TYPES = [
    { value: 'topology', label: 'Topology', description: 'zones and conduits as a node graph, undeclared paths in red' },
    { value: 'matrix', label: 'Matrix', description: 'zone × zone: declared conduit, allowed and policy-breaking events' },
    { value: 'conduit', label: 'Conduit', description: "one conduit's rules with the traffic each carried" },
    { value: 'findings', label: 'Findings', description: 'the latest findings, live from the correlator' },
  ];
  var LIST_FIELDS = ['sites', 'zones', 'conduits', 'severities', 'types'];

  // isAll reports whether a list entry is a variable set to "All": the
  // entry is dropped, as an empty list means everything (and a findings
  // query keeps a short live channel instead of naming every value).
  function isAll(srv, entry, scopedVars) {
    var m = /^\$(?:\{(\w+)(?::\w+)?\}|(\w+))$/.exec(entry);
    if (!m) {
      return false;
    }
    var name = m[1] || m[2];
    if (scopedVars && scopedVars[name]) {
      return false; // a repeated panel's own value
    }
    var v = srv.getVariables().find(function (x) { return x.name === name; });
    var cur = v && v.current && v.current.value;
    return cur === '$__all' || (Array.isArray(cur) && cur.indexOf('$__all') >= 0);
  }

  // The data source: queries go to the backend; list filters and the
  // conduit may hold dashboard variables, expanded here as comma-separated
  // values (the backend splits them).
  class OtsiemDataSource extends runtime.DataSourceWithBackend {
    getDefaultQuery() {
      return { queryType: 'topology' };
    }

    filterQuery(query) {
      return !query.hide && !!query.queryType;
    }

    applyTemplateVariables(query, scopedVars) {
      var srv = runtime.getTemplateSrv();
      var out = Object.assign({}, query);
      LIST_FIELDS.forEach(function (k) {
        if (Array.isArray(query[k])) {
          out[k] = query[k]
            .filter(function (v) { return !isAll(srv, String(v), scopedVars); })
            .map(function (v) { return srv.replace(String(v), scopedVars, 'csv'); });
        }
      });
      if (query.conduit) {
        out.conduit = srv.replace(query.conduit, scopedVars);
      }
      return out;
    }

    // Variable queries: "zones", "conduits" or "devices" list the current
    // model's ids (the plugin's resources).
    metricFindQuery(query) {
      var name = String((query && query.query) || query || 'zones').trim();
      var key = { zones: 'zone', conduits: 'conduit', devices: 'device' }[name];
      if (!key) {
        return Promise.reject(new Error('variable query "' + name + '": want zones, conduits or devices'));
      }
      return this.getResource(name).then(function (rows) {
        return rows.map(function (r) { return { text: r[key], value: r[key] }; });
      });
    }
  }

  function options(values) {
    return (values || []).map(function (v) { return { label: v, value: v }; });
  }

  // useResource loads one of the plugin's resources once.
  function useResource(ds, name) {
    var state = React.useState(null);
    React.useEffect(function () {
      var live = true;
      ds.getResource(name).then(function (r) { if (live) { state[1](r); } }, function () { if (live) { state[1]([]); } });
      return function () { live = false; };
    }, [ds, name]);
    return state[0];
  }

  function field(label, tooltip, child, width) {
    return h(ui.InlineField, { label: label, tooltip: tooltip, labelWidth: width || 14 }, child);
  }

  // The query editor: the query type, and the filters that type reads.
  function QueryEditor(props) {
    var q = props.query;
    var ds = props.datasource;
    var zones = useResource(ds, 'zones') || [];
    var conduits = useResource(ds, 'conduits') || [];
    var vocabulary = useResource(ds, 'vocabulary') || {};
    var vars = runtime.getTemplateSrv().getVariables().map(function (v) { return '$' + v.name; });

    function change(k, v, run) {
      var next = Object.assign({}, q);
      next[k] = v;
      props.onChange(next);
      if (run !== false) {
        props.onRunQuery();
      }
    }
    function multi(k, label, tooltip, values) {
      return field(label, tooltip, h(ui.MultiSelect, {
        width: 40, allowCustomValue: true, placeholder: 'all',
        options: options(vars.concat(values)),
        value: q[k] || [],
        onChange: function (sel) { change(k, sel.map(function (o) { return o.value; })); },
      }));
    }
    var zoneIds = zones.map(function (z) { return z.zone; });
    var conduitIds = conduits.map(function (c) { return c.conduit; });
    var type = q.queryType || 'topology';
    var rows = [
      h(ui.InlineFieldRow, { key: 'type' }, field('Query type', 'what the panel shows', h(ui.RadioButtonGroup, {
        options: QUERY_TYPES, value: type, onChange: function (v) { change('queryType', v); },
      }))),
    ];
    if (type === 'conduit') {
      rows.push(h(ui.InlineFieldRow, { key: 'conduit' }, field('Conduit', 'the conduit whose rules are shown', h(ui.Select, {
        width: 40, allowCustomValue: true, options: options(vars.concat(conduitIds)), value: q.conduit || null,
        onChange: function (o) { change('conduit', o.value); },
      }))));
    }
    var filters = [multi('zones', 'Zones', 'zones shown (topology, matrix) or touched (findings)', zoneIds)];
    if (type !== 'conduit') {
      filters.push(multi('conduits', 'Conduits', 'conduits shown', conduitIds));
    }
    rows.push(h(ui.InlineFieldRow, { key: 'filters' }, filters));
    if (type === 'findings') {
      rows.push(h(ui.InlineFieldRow, { key: 'findings' }, [
        multi('severities', 'Severities', 'findings of these severities', vocabulary.severities || []),
        multi('types', 'Types', 'findings of these types', vocabulary.types || []),
        field('Limit', 'at most this many findings, newest first (10,000 at most)', h(ui.Input, {
          type: 'number', width: 12, min: 1, max: 10000, placeholder: '100', defaultValue: q.limit || '',
          onBlur: function (e) { change('limit', e.currentTarget.value ? Number(e.currentTarget.value) : undefined); },
        }), 8),
      ]));
    }
    return h('div', { className: 'gf-form-group' }, rows);
  }

  // The configuration page: ClickHouse's HTTP interface with a read-only
  // user, and NATS for live findings. Passwords, tokens and seeds are
  // secureJsonData: Grafana stores them encrypted and never sends them back.
  function ConfigEditor(props) {
    var o = props.options;
    var j = o.jsonData || {};
    var secure = o.secureJsonFields || {};
    var secret = o.secureJsonData || {};

    function setJSON(k, v) {
      var jd = Object.assign({}, j);
      jd[k] = v;
      props.onOptionsChange(Object.assign({}, o, { jsonData: jd }));
    }
    function setSecret(k, v) {
      var sd = Object.assign({}, secret);
      sd[k] = v;
      props.onOptionsChange(Object.assign({}, o, { secureJsonData: sd }));
    }
    function resetSecret(k) {
      var sf = Object.assign({}, secure);
      var sd = Object.assign({}, secret);
      sf[k] = false;
      sd[k] = '';
      props.onOptionsChange(Object.assign({}, o, { secureJsonFields: sf, secureJsonData: sd }));
    }
    function text(k, label, tooltip, placeholder) {
      return h(ui.InlineFieldRow, { key: k }, field(label, tooltip, h(ui.Input, {
        width: 48, placeholder: placeholder, value: j[k] || '',
        onChange: function (e) { setJSON(k, e.currentTarget.value); },
      }), 22));
    }
    function password(k, label, tooltip) {
      return h(ui.InlineFieldRow, { key: k }, field(label, tooltip, h(ui.SecretInput, {
        width: 48, isConfigured: !!secure[k], value: secret[k] || '',
        onChange: function (e) { setSecret(k, e.currentTarget.value); },
        onReset: function () { resetSecret(k); },
      }), 22));
    }
    function check(k, label, tooltip) {
      return h(ui.InlineFieldRow, { key: k }, field(label, tooltip, h(ui.InlineSwitch, {
        value: !!j[k], onChange: function (e) { setJSON(k, e.currentTarget.checked); },
      }), 22));
    }
    function pem(k, label, tooltip) {
      return h(ui.InlineFieldRow, { key: k }, field(label, tooltip, h(ui.TextArea, {
        cols: 48, rows: 3, placeholder: '-----BEGIN CERTIFICATE-----', value: j[k] || '',
        onChange: function (e) { setJSON(k, e.currentTarget.value); },
      }), 22));
    }
    return h('div', null, [
      h('h3', { key: 'ch', className: 'page-heading' }, 'ClickHouse'),
      text('clickhouseAddress', 'Address', 'host:port of the HTTP interface: storage.embedded.listen of otsiem run (127.0.0.1:8123), or 8123 of a server', '127.0.0.1:8123'),
      text('clickhouseDatabase', 'Database', "the database otsiem writes (storage.database)", 'otsiem'),
      text('clickhouseUser', 'User', 'a read-only user: the reader of <data_dir>/clickhouse-users.yaml for otsiem run', 'otsiem_reader'),
      password('clickhousePassword', 'Password', "that user's password"),
      check('clickhouseSecure', 'TLS', 'speak HTTPS to ClickHouse'),
      pem('clickhouseCACert', 'CA certificate', 'PEM; verifies the server instead of the system roots'),
      h('h3', { key: 'nats', className: 'page-heading' }, 'NATS (live findings)'),
      text('natsURL', 'URL', 'nats://host:4222 (tls:// for TLS); empty: findings show at each refresh, not live', 'nats://127.0.0.1:4222'),
      text('natsUser', 'User', 'a reader of nats.embedded.users (subscribes to otsiem.>, publishes nothing)', ''),
      password('natsPassword', 'Password', "that user's password"),
      password('natsToken', 'Token', 'instead of a user: a token'),
      password('natsNKeySeed', 'NKey seed', 'instead of a user: an NKey seed (SU…)'),
      text('natsCredsFile', 'Credentials file', 'instead of a user: a .creds file on the Grafana host', ''),
      pem('natsCACert', 'CA certificate', 'PEM; verifies a tls:// server'),
    ]);
  }

  var plugin = new data.DataSourcePlugin(OtsiemDataSource).setConfigEditor(ConfigEditor).setQueryEditor(QueryEditor);
  return { plugin: plugin, OtsiemDataSource: OtsiemDataSource, QueryEditor: QueryEditor, ConfigEditor: ConfigEditor };
});
