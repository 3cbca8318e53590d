package dashboards

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"
)

// The provisioned data source every panel and variable uses: Grafana's
// official ClickHouse plugin (dashboards/provisioning/datasources).
const (
	DatasourceType = "grafana-clickhouse-datasource"
	DatasourceUID  = "otsiem-clickhouse"
)

// Datasource is the reference to the provisioned data source.
func Datasource() common.DataSourceRef {
	t, uid := DatasourceType, DatasourceUID
	return common.DataSourceRef{Type: &t, Uid: &uid}
}

// Format is how the ClickHouse data source shapes a query's result.
type Format int

// Formats of the ClickHouse data source (its "format" field).
const (
	FormatTimeSeries Format = 0 // long results with a time column first are turned wide, one series per label
	FormatTable      Format = 1
	FormatLogs       Format = 2
)

// Query is a panel target of the ClickHouse data source in SQL mode, as
// the plugin stores it: the SDK has no ClickHouse query type.
type Query struct {
	RefId      *string                `json:"refId,omitempty"`
	Hide       *bool                  `json:"hide,omitempty"`
	Datasource *common.DataSourceRef  `json:"datasource,omitempty"`
	EditorType string                 `json:"editorType"`
	RawSql     string                 `json:"rawSql"`
	Format     Format                 `json:"format"`
	QueryType  string                 `json:"queryType"`
	Meta       map[string]interface{} `json:"meta,omitempty"`
}

// ImplementsDataqueryVariant marks Query as a data query of the SDK.
func (Query) ImplementsDataqueryVariant() {}

// DataqueryType is the plugin's id.
func (Query) DataqueryType() string { return DatasourceType }

// Equals reports whether two queries are the same.
func (q Query) Equals(other variants.Dataquery) bool {
	o, ok := other.(Query)
	return ok && reflect.DeepEqual(q, o)
}

// Validate checks what the plugin needs: SQL mode and SQL.
func (q Query) Validate() error {
	var errs []error
	if q.EditorType != "sql" {
		errs = append(errs, fmt.Errorf("editorType %q: want sql", q.EditorType))
	}
	if q.RawSql == "" {
		errs = append(errs, errors.New("rawSql is empty"))
	}
	if q.QueryType != "table" && q.QueryType != "timeseries" && q.QueryType != "logs" {
		errs = append(errs, fmt.Errorf("queryType %q: want table, timeseries or logs", q.QueryType))
	}
	return errors.Join(errs...)
}

// QueryVariant registers Query with the SDK's runtime, so that dashboards
// holding it unmarshal (strictly: unknown fields are errors).
func QueryVariant() variants.DataqueryConfig {
	return variants.DataqueryConfig{
		Identifier: DatasourceType,
		DataqueryUnmarshaler: func(raw []byte) (variants.Dataquery, error) {
			var q Query
			err := json.Unmarshal(raw, &q)
			return q, err
		},
		StrictDataqueryUnmarshaler: func(raw []byte) (variants.Dataquery, error) {
			var q Query
			d := json.NewDecoder(bytes.NewReader(raw))
			d.DisallowUnknownFields()
			if err := d.Decode(&q); err != nil {
				return nil, fmt.Errorf("%s query: %w", DatasourceType, err)
			}
			return q, q.Validate()
		},
	}
}

// QueryBuilder builds a Query.
type QueryBuilder struct{ q Query }

var _ cog.Builder[variants.Dataquery] = (*QueryBuilder)(nil)

// NewQuery returns a builder of a query running sql, shaped as format.
func NewQuery(sql string, format Format) *QueryBuilder {
	ds := Datasource()
	qt := "table"
	if format == FormatTimeSeries {
		qt = "timeseries"
	}
	return &QueryBuilder{Query{Datasource: &ds, EditorType: "sql", RawSql: sql, Format: format, QueryType: qt}}
}

// RefId names the query within its panel.
func (b *QueryBuilder) RefId(id string) *QueryBuilder {
	b.q.RefId = &id
	return b
}

// Build returns the query.
func (b *QueryBuilder) Build() (variants.Dataquery, error) {
	if err := b.q.Validate(); err != nil {
		return nil, cog.MakeBuildErrors("target", err)
	}
	return b.q, nil
}
