package storage

// The Grafana backend plugin's named queries (issue 16,
// dashboards/plugin): the plant's declared zones and conduits drawn as a
// graph with the traffic of a window on them, one conduit's rules with the
// traffic each carried, and the current model for the plugin's resources.
// Filters are list parameters written by [In]; every query takes the
// half-open window [{from}, {to}) unless it says otherwise.

// severityOrder lists the finding severities from the least to the most
// severe, as a SQL array: indexOf over it ranks a severity (0 for none).
const severityOrder = "['info', 'low', 'medium', 'high', 'critical']"

var (
	// QueryTopologyZones is one row per zone of the current model, in the
	// model's order: zone, name, purdue (as declared, e.g. "1-2"),
	// purdue_lo and purdue_hi (NULL when none was declared), sl_t (NULL
	// when none), criticality, safety, air_gapped, the conduits joining it,
	// the assets of the inventory in it, and the findings touching it
	// (source or destination zone) that are open by the SOC dashboard's
	// definition ([QueryOpenFindingCounts]: no analyst handled them, last
	// seen in the window): open_findings and worst_severity ('' when none). Filtered
	// by {zones} (the zone), and for the findings by {sites}, {conduits}
	// and {severities}.
	QueryTopologyZones = Query{"topology_zones", `
SELECT z.zone AS zone, z.name AS name, z.purdue AS purdue, z.purdue_lo AS purdue_lo, z.purdue_hi AS purdue_hi, z.sl_t AS sl_t,
       z.criticality AS criticality, z.safety AS safety, z.air_gapped AS air_gapped, length(z.conduits) AS conduits,
       a.assets AS assets, f.open_findings AS open_findings, f.worst_severity AS worst_severity
FROM (SELECT zone, name, position, purdue, purdue_lo, purdue_hi, sl_t, criticality, safety, air_gapped, conduits
      FROM model_zones WHERE model_hash = ` + CurrentModel + `) AS z
LEFT JOIN (SELECT zone, count() AS assets FROM model_assets WHERE model_hash = ` + CurrentModel + ` GROUP BY zone) AS a ON a.zone = z.zone
LEFT JOIN (
    SELECT touched AS zone, count() AS open_findings,
           ` + severityOrder + `[max(indexOf(` + severityOrder + `, severity))] AS worst_severity
    FROM ` + findingsWithState + ` ARRAY JOIN arrayDistinct([src_zone, dst_zone]) AS touched
    WHERE touched != '' AND ` + openFindings + `
    GROUP BY touched
) AS f ON f.zone = z.zone
WHERE ` + In("zones", "z.zone") + `
ORDER BY z.position`}

	// QueryTopologyPaths is the edges of the plant's graph: one row per
	// pair of zones a declared conduit of the current model joins
	// (undeclared false; source and target in the conduit's order of
	// zones), and one per observed path between two declared zones on no
	// conduit (undeclared true; source is the initiating zone), with the
	// events of the window from the hourly rollup (either direction for a
	// conduit): allowed, policy-breaking ([PolicyBreaking]), blocked, all
	// events, and the reasons seen. Filtered by {sites} (traffic), {zones}
	// (source or target) and {conduits}.
	QueryTopologyPaths = Query{"topology_paths", `
WITH traffic AS (
    SELECT conduit, src_zone, dst_zone, sumIf(events, verdict = 'allowed') AS allowed,
           sumIf(events, ` + PolicyBreaking + `) AS policy_breaking, sumIf(events, verdict = 'blocked') AS blocked,
           sum(events) AS total, groupUniqArrayIf(reason, reason != '') AS reasons
    FROM flows_hourly
    WHERE ` + crossZone + ` AND hour >= toStartOfHour({from:DateTime64(6, 'UTC')}) AND hour < {to:DateTime64(6, 'UTC')}
      AND ` + In("sites", "site") + `
    GROUP BY conduit, src_zone, dst_zone)
SELECT conduit, source, target, undeclared, allowed, policy_breaking, blocked, total, reasons
FROM (
    SELECT d.conduit AS conduit, d.source AS source, d.target AS target, false AS undeclared, d.position AS position,
           sum(t.allowed) AS allowed, sum(t.policy_breaking) AS policy_breaking, sum(t.blocked) AS blocked, sum(t.total) AS total,
           arraySort(arrayDistinct(arrayFlatten(groupArray(t.reasons)))) AS reasons
    FROM (
        SELECT conduit, position, z1 AS source, z2 AS target
        FROM model_conduits ARRAY JOIN zones AS z1, arrayEnumerate(zones) AS i1 ARRAY JOIN zones AS z2, arrayEnumerate(zones) AS i2
        WHERE model_hash = ` + CurrentModel + ` AND i1 < i2
    ) AS d
    LEFT JOIN traffic AS t ON t.conduit = d.conduit
        AND ((t.src_zone = d.source AND t.dst_zone = d.target) OR (t.src_zone = d.target AND t.dst_zone = d.source))
    GROUP BY conduit, source, target, position
    UNION ALL
    SELECT '', src_zone, dst_zone, true, toUInt16(65535), allowed, policy_breaking, blocked, total, arraySort(reasons)
    FROM traffic
    WHERE conduit = ''
)
WHERE ` + In("zones", "source", "target") + ` AND ` + In("conduits", "conduit") + `
ORDER BY undeclared, position, source, target`}

	// QueryConduitRules is one conduit's ({conduit:String}) declared rules
	// in the current model, in order, each with the traffic of the window
	// on that conduit it carried, and a last row (rule '') with the
	// traffic that fits none of them. A flow is carried by the first rule
	// whose declared direction (either way when the rule has none),
	// transport ('any' for all) and ports (all when none) fit it; whether
	// the flow kept to the rule (its functions, its diode) is the
	// correlator's verdict. Columns: rule, protocol, direction (as
	// declared), from_zone and to_zone ('' for either way), transport,
	// ports ("502, 5020-5029"), functions ('' for all), diode, then flows
	// (distinct source, destination, transport, port and protocol),
	// events, allowed, policy-breaking ([PolicyBreaking]), blocked,
	// first_seen and last_seen (NULL without traffic), and the verdict
	// reasons seen. Filtered by {sites}.
	QueryConduitRules = Query{"conduit_rules", `
WITH (SELECT groupArray((rule, transport, ports, from_zone, to_zone))
      FROM (SELECT rule, transport, ports, from_zone, to_zone FROM model_rules
            WHERE model_hash = ` + CurrentModel + ` AND conduit = {conduit:String} ORDER BY position)) AS declared,
  carried AS (
    SELECT tupleElement(arrayFirst(r -> (tupleElement(r, 2) IN ('any', '') OR tupleElement(r, 2) = transport)
               AND (empty(tupleElement(r, 3)) OR arrayExists(p -> dst_port >= toUInt16OrZero(splitByChar('-', p)[1])
                    AND dst_port <= toUInt16OrZero(splitByChar('-', p)[-1]), tupleElement(r, 3)))
               AND (tupleElement(r, 4) = '' OR (tupleElement(r, 4) = src_zone AND tupleElement(r, 5) = dst_zone)), declared), 1) AS rule,
           uniqExact(src_ip, dst_ip, transport, dst_port, app_protocol) AS c_flows, sum(events) AS c_events,
           sumIf(events, verdict = 'allowed') AS c_allowed, sumIf(events, ` + PolicyBreaking + `) AS c_policy_breaking,
           sumIf(events, verdict = 'blocked') AS c_blocked, min(first_seen) AS c_first_seen, max(last_seen) AS c_last_seen,
           arraySort(groupUniqArrayIf(reason, reason != '')) AS c_reasons
    FROM flows_hourly
    WHERE conduit = {conduit:String} AND hour >= toStartOfHour({from:DateTime64(6, 'UTC')}) AND hour < {to:DateTime64(6, 'UTC')}
      AND ` + In("sites", "site") + `
    GROUP BY rule)
SELECT r.rule AS rule, r.protocol AS protocol, r.direction AS direction, r.from_zone AS from_zone, r.to_zone AS to_zone,
       r.transport AS transport, arrayStringConcat(r.ports, ', ') AS ports, r.functions AS functions, r.diode AS diode,
       c.c_flows AS flows, c.c_events AS events, c.c_allowed AS allowed, c.c_policy_breaking AS policy_breaking,
       c.c_blocked AS blocked, if(c.c_events = 0, NULL, c.c_first_seen) AS first_seen,
       if(c.c_events = 0, NULL, c.c_last_seen) AS last_seen, c.c_reasons AS reasons
FROM (
    SELECT rule, position, protocol, direction, from_zone, to_zone, transport, ports, functions, diode
    FROM model_rules WHERE model_hash = ` + CurrentModel + ` AND conduit = {conduit:String}
    UNION ALL
    SELECT '', toUInt16(65535), '', '', '', '', '', [], '', false
) AS r
LEFT JOIN carried AS c ON c.rule = r.rule
ORDER BY r.position`}

	// QueryModelVersion is the current model (the last one loaded, over
	// all sites): model_hash, loaded_at, site, source, facility, standard,
	// assessment_date and its counts of zones, conduits, rules, assets,
	// devices and diodes; no row before a model was written.
	QueryModelVersion = Query{"model_version", `
SELECT model_hash, loaded_at, site, source, facility, standard, assessment_date, zones, conduits, rules, assets, devices, diodes
FROM model_versions
ORDER BY loaded_at DESC, model_hash
LIMIT 1`}

	// QueryModelZones lists the zones of the current model in its order:
	// zone, name, purdue, sl_t (NULL when none), criticality, safety,
	// air_gapped, networks (CIDRs) and conduits.
	QueryModelZones = Query{"model_zones", `
SELECT zone, name, purdue, sl_t, criticality, safety, air_gapped, networks, conduits
FROM model_zones
WHERE model_hash = ` + CurrentModel + `
ORDER BY position`}

	// QueryModelConduits lists the conduits of the current model in its
	// order: conduit, name, zones, sl (NULL when none), controls,
	// inspected, and its rules' ids.
	QueryModelConduits = Query{"model_conduits", `
SELECT c.conduit AS conduit, c.name AS name, c.zones AS zones, c.sl AS sl, c.controls AS controls, c.inspected AS inspected,
       r.rules AS rules
FROM (SELECT conduit, name, position, zones, sl, controls, inspected FROM model_conduits WHERE model_hash = ` + CurrentModel + `) AS c
LEFT JOIN (SELECT conduit, arrayMap(x -> x.2, arraySort(groupArray((position, rule)))) AS rules
           FROM model_rules WHERE model_hash = ` + CurrentModel + ` GROUP BY conduit) AS r ON r.conduit = c.conduit
ORDER BY c.position`}

	// QueryModelDevices lists the reporting devices of the current model
	// by hostname: device, role (firewall, sensor, diode), vendor,
	// product, mode (monitor or enforce; '' for sensors), mode_since (NULL
	// when always), addresses (as text), conduits and zones.
	QueryModelDevices = Query{"model_devices", `
SELECT device, role, vendor, product, mode, mode_since,
       arrayMap(a -> replaceOne(toString(a), '::ffff:', ''), addresses) AS addresses, conduits, zones
FROM model_devices
WHERE model_hash = ` + CurrentModel + `
ORDER BY device`}
)

// PluginQueries lists the plugin's own named queries.
var PluginQueries = []Query{QueryTopologyZones, QueryTopologyPaths, QueryConduitRules, QueryModelVersion, QueryModelZones,
	QueryModelConduits, QueryModelDevices}
