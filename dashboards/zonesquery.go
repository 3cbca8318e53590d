package dashboards

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"

	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/cog/variants"
	"github.com/grafana/grafana-foundation-sdk/go/common"

	"github.com/otsiem/otsiem/dashboards/zones"
)

// The provisioned data source of otsiem's own Grafana plugin
// (dashboards/plugin): the topology, matrix, conduit and live findings
// panels use it by this uid.
const ZonesDatasourceUID = "otsiem-zones"

// ZonesDatasource is the reference to the provisioned plugin data source.
func ZonesDatasource() common.DataSourceRef {
	t, uid := zones.PluginID, ZonesDatasourceUID
	return common.DataSourceRef{Type: &t, Uid: &uid}
}

// ZonesQuery is a panel target of the plugin: Grafana's keys and the
// plugin's query ([zones.Query], inlined).
type ZonesQuery struct {
	RefId      *string               `json:"refId,omitempty"`
	Hide       *bool                 `json:"hide,omitempty"`
	Datasource *common.DataSourceRef `json:"datasource,omitempty"`
	zones.Query
}

// ImplementsDataqueryVariant marks ZonesQuery as a data query of the SDK.
func (ZonesQuery) ImplementsDataqueryVariant() {}

// DataqueryType is the plugin's id.
func (ZonesQuery) DataqueryType() string { return zones.PluginID }

// Equals reports whether two queries are the same.
func (q ZonesQuery) Equals(other variants.Dataquery) bool {
	o, ok := other.(ZonesQuery)
	return ok && reflect.DeepEqual(q, o)
}

// Validate checks the query as the dashboard stores it, variable
// references unreplaced (it hides zones.Query.Validate, which checks a
// query Grafana sends).
func (q ZonesQuery) Validate() error { return q.ValidateTemplate() }

// ZonesQueryVariant registers ZonesQuery with the SDK's runtime; the
// strict unmarshaler refuses unknown fields and what Validate refuses.
func ZonesQueryVariant() variants.DataqueryConfig {
	return variants.DataqueryConfig{
		Identifier: zones.PluginID,
		DataqueryUnmarshaler: func(raw []byte) (variants.Dataquery, error) {
			var q ZonesQuery
			err := json.Unmarshal(raw, &q)
			return q, err
		},
		StrictDataqueryUnmarshaler: func(raw []byte) (variants.Dataquery, error) {
			var q ZonesQuery
			d := json.NewDecoder(bytes.NewReader(raw))
			d.DisallowUnknownFields()
			if err := d.Decode(&q); err != nil {
				return nil, fmt.Errorf("%s query: %w", zones.PluginID, err)
			}
			return q, q.Validate()
		},
	}
}

// ZonesQueryBuilder builds a ZonesQuery.
type ZonesQueryBuilder struct{ q ZonesQuery }

var _ cog.Builder[variants.Dataquery] = (*ZonesQueryBuilder)(nil)

// NewZonesQuery returns a builder of the plugin query q, refId A.
func NewZonesQuery(q zones.Query) *ZonesQueryBuilder {
	ds, ref := ZonesDatasource(), "A"
	return &ZonesQueryBuilder{ZonesQuery{RefId: &ref, Datasource: &ds, Query: q}}
}

// Build returns the query.
func (b *ZonesQueryBuilder) Build() (variants.Dataquery, error) {
	if err := b.q.Validate(); err != nil {
		return nil, cog.MakeBuildErrors("target", err)
	}
	return b.q, nil
}
