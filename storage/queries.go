package storage

import (
	"context"
	"fmt"
	"time"

	"github.com/ClickHouse/clickhouse-go/v2"
	"github.com/ClickHouse/clickhouse-go/v2/lib/driver"
)

// Query is a named query: every query the CLI, dashboards and reports run
// lives here, with {name:Type} parameters bound by ClickHouse (pass them
// with clickhouse.Named). The time-window queries take {from} and {to}.
type Query struct {
	Name string
	SQL  string
}

// Named queries.
var (
	// QueryVerdictsByConduit counts events per conduit and verdict in
	// [{from}, {to}).
	QueryVerdictsByConduit = Query{"verdicts_by_conduit", `
SELECT conduit, verdict, sum(events) AS events
FROM flows_hourly
WHERE hour >= toStartOfHour({from:DateTime64(6, 'UTC')}) AND hour < {to:DateTime64(6, 'UTC')}
GROUP BY conduit, verdict
ORDER BY conduit, verdict`}

	// QueryWouldBlock lists the flows monitor-mode devices would block in
	// [{from}, {to}): the monitor-mode review.
	QueryWouldBlock = Query{"would_block", `
SELECT src_zone, src_ip, dst_zone, dst_ip, conduit, transport, dst_port, app_protocol, function, reason,
       sum(events) AS events, min(first_seen) AS first_seen, max(last_seen) AS last_seen
FROM flows_hourly
WHERE verdict = 'would_block' AND hour >= toStartOfHour({from:DateTime64(6, 'UTC')}) AND hour < {to:DateTime64(6, 'UTC')}
GROUP BY src_zone, src_ip, dst_zone, dst_ip, conduit, transport, dst_port, app_protocol, function, reason
ORDER BY events DESC, src_ip, dst_ip, dst_port`}

	// QueryFindings lists findings last seen in [{from}, {to}), each in its
	// latest folded state.
	QueryFindings = Query{"findings", `
SELECT finding_id, type, reason, severity, conduit, count, first_seen, last_seen, summary
FROM findings FINAL
WHERE last_seen >= {from:DateTime64(6, 'UTC')} AND last_seen < {to:DateTime64(6, 'UTC')}
ORDER BY last_seen DESC, finding_id`}
)

// VerdictCount is a row of [QueryVerdictsByConduit].
type VerdictCount struct {
	Conduit, Verdict string
	Events           uint64
}

// VerdictsByConduit runs [QueryVerdictsByConduit].
func VerdictsByConduit(ctx context.Context, conn driver.Conn, from, to time.Time) ([]VerdictCount, error) {
	rows, err := conn.Query(ctx, QueryVerdictsByConduit.SQL, clickhouse.Named("from", from.UTC()), clickhouse.Named("to", to.UTC()))
	if err != nil {
		return nil, fmt.Errorf("storage: %s: %w", QueryVerdictsByConduit.Name, err)
	}
	defer rows.Close()
	var out []VerdictCount
	for rows.Next() {
		var v VerdictCount
		if err := rows.Scan(&v.Conduit, &v.Verdict, &v.Events); err != nil {
			return nil, fmt.Errorf("storage: %s: %w", QueryVerdictsByConduit.Name, err)
		}
		out = append(out, v)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("storage: %s: %w", QueryVerdictsByConduit.Name, err)
	}
	return out, nil
}
