package source

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"

	"github.com/grafana/grafana-plugin-sdk-go/backend"

	"github.com/otsiem/otsiem/ingest/event"
	"github.com/otsiem/otsiem/storage"
)

// resources are the plugin's resources (GET /api/datasources/uid/<uid>/
// resources/<name>): the current model as JSON arrays of objects keyed by
// column, for dashboard variables and the query editor.
var resources = map[string]storage.Query{
	"zones":    storage.QueryModelZones,
	"conduits": storage.QueryModelConduits,
	"devices":  storage.QueryModelDevices,
	"model":    storage.QueryModelVersion,
}

// Vocabulary is the resource "vocabulary": the values a findings query's
// filters take, for the query editor.
type Vocabulary struct {
	Severities []event.Severity `json:"severities"`
	Types      []string         `json:"types"`
}

// CallResource answers GET zones, conduits, devices and model with a JSON
// array (empty before a model was written), and GET vocabulary with a
// [Vocabulary]; 404 for another path, 405 for another method, 502 when
// ClickHouse fails; errors as {"error": "..."}.
func (s *Source) CallResource(ctx context.Context, req *backend.CallResourceRequest, sender backend.CallResourceResponseSender) error {
	name := strings.Trim(req.Path, "/")
	q, ok := resources[name]
	switch {
	case !ok && name != "vocabulary":
		return sendJSON(sender, http.StatusNotFound, map[string]string{"error": "no resource " + name + ": zones, conduits, devices, model or vocabulary"})
	case req.Method != http.MethodGet:
		return sendJSON(sender, http.StatusMethodNotAllowed, map[string]string{"error": req.Method + " " + name + ": only GET"})
	case !ok:
		return sendJSON(sender, http.StatusOK, Vocabulary{Severities: event.Severities, Types: event.FindingTypes})
	}
	t, err := storage.RunQuery(ctx, s.ch, q)
	if err != nil {
		s.log.Warn("resource failed", "resource", name, "error", err.Error())
		return sendJSON(sender, http.StatusBadGateway, map[string]string{"error": err.Error()})
	}
	out := make([]map[string]any, 0, len(t.Rows))
	for _, r := range t.Rows {
		o := make(map[string]any, len(t.Columns))
		for i, c := range t.Columns {
			o[c] = r[i]
		}
		out = append(out, o)
	}
	return sendJSON(sender, http.StatusOK, out)
}

func sendJSON(sender backend.CallResourceResponseSender, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return sender.Send(&backend.CallResourceResponse{Status: status, Body: b,
		Headers: map[string][]string{"Content-Type": {"application/json"}}})
}
