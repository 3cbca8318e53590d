package embedded

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"compress/zlib"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/otsiem/otsiem/storage/chdb"
)

// reserved are URL parameters of the HTTP interface that are not settings.
var reserved = map[string]bool{
	"query": true, "database": true, "default_format": true, "query_id": true,
	"quota_key": true, "user": true, "password": true, "client_protocol_version": true,
	"wait_end_of_query": true, "buffer_size": true, "enable_http_compression": true,
	"http_zlib_compression_level": true, "http_native_compression_disable_checksumming_on_decompress": true,
	"send_progress_in_http_headers": true, "http_headers_progress_interval_ms": true,
	"max_query_size": true, "cancel_http_readonly_queries_on_client_close": true,
}

// unsupported are URL parameters asking for what this interface lacks.
var unsupported = map[string]string{
	"session_id": "sessions",
	"compress":   "native compression",
	"decompress": "native compression",
}

// maxQuery bounds a query read from the body when it carries no INSERT data.
const maxQuery = 64 << 20

// helloQuery is what clickhouse-go's HTTP mode sends first to learn the
// server's name, version, protocol revision and time zone.
const helloQuery = "SELECT displayName(), version(), revision(), timezone()"

// Handler serves the ClickHouse HTTP interface over an engine.
type Handler struct {
	engine *chdb.Engine
	seq    atomic.Uint64

	helloOnce sync.Once
	hello     []string // displayName, version, timezone
	helloErr  error
}

// NewHandler returns the HTTP interface over e.
func NewHandler(e *chdb.Engine) *Handler { return &Handler{engine: e} }

// httpError is an error with the HTTP status it is answered with.
type httpError struct {
	status int
	err    error
}

func (e *httpError) Error() string { return e.err.Error() }
func (e *httpError) Unwrap() error { return e.err }

func badRequest(format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, err: fmt.Errorf(format, args...)}
}

// ServeHTTP implements [http.Handler].
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	defer r.Body.Close()
	if r.URL.Path == "/ping" || r.URL.Path == "/replicas_status" || (r.Method == http.MethodGet && r.URL.RawQuery == "") {
		w.Header().Set("Content-Type", "text/plain; charset=UTF-8")
		_, _ = io.WriteString(w, "Ok.\n")
		return
	}
	if r.Method != http.MethodGet && r.Method != http.MethodPost {
		writeError(w, &httpError{status: http.StatusMethodNotAllowed, err: errors.New("only GET and POST are served")})
		return
	}
	queryID := r.URL.Query().Get("query_id")
	if queryID == "" {
		queryID = fmt.Sprintf("embedded-%d-%d", time.Now().UnixNano(), h.seq.Add(1))
	}
	w.Header().Set("X-ClickHouse-Query-Id", queryID)
	if err := h.serve(w, r); err != nil {
		writeError(w, err)
	}
}

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	for k, what := range unsupported {
		if v := q.Get(k); v != "" && v != "0" {
			return badRequest("Code: 1. DB::Exception: %s (parameter %s) not supported by the embedded ClickHouse HTTP interface. (NOT_IMPLEMENTED)", what, k)
		}
	}
	in, err := decodeBody(r)
	if err != nil {
		return err
	}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		return badRequest("Code: 1. DB::Exception: external tables not supported by the embedded ClickHouse HTTP interface. (NOT_IMPLEMENTED)")
	}
	database := q.Get("database")
	if database == "" {
		database = r.Header.Get("X-ClickHouse-Database")
	}
	format := q.Get("default_format")
	if format == "" {
		format = r.Header.Get("X-ClickHouse-Format")
	}
	if format == "" {
		format = "TabSeparated"
	}
	role := roleOf(r.Context())
	settings := map[string]string{}
	params := map[string]string{}
	for k, vs := range q {
		v := vs[len(vs)-1]
		switch {
		case strings.HasPrefix(k, "param_"):
			params[strings.TrimPrefix(k, "param_")] = v
		case reserved[k] || unsupported[k] != "":
		case role != roleInProcess && !readerSettings[k] && !(role == RoleWriter && writerSettings[k]):
			return &httpError{status: http.StatusForbidden, err: fmt.Errorf(
				"Code: 164. DB::Exception: %s: setting %s cannot be given through the embedded ClickHouse HTTP interface. (READONLY)", role, k)}
		default:
			settings[k] = v
		}
	}

	// The statement: the URL's query, followed by the body unless the body
	// is the statement's INSERT data.
	body := bufio.NewReaderSize(in, 64<<10)
	sql := q.Get("query")
	var data io.Reader
	if sql != "" {
		if _, ok := splitInsert(sql); ok {
			data = body
		} else {
			rest, err := readQuery(body)
			if err != nil {
				return err
			}
			if rest != "" {
				sql += " " + rest
			}
		}
	} else {
		// Peek far enough to see an INSERT's head without reading its data.
		head, _ := body.Peek(64 << 10)
		if s, ok := splitInsert(string(head)); ok && s.data <= len(head) {
			sql = string(head[:s.data])
			_, _ = body.Discard(s.data)
			data = body
		} else {
			var err error
			if sql, err = readQuery(body); err != nil {
				return err
			}
		}
	}
	if strings.TrimSpace(sql) == "" {
		return badRequest("Code: 62. DB::Exception: Empty query. (SYNTAX_ERROR)")
	}
	if strings.TrimSpace(sql) == helloQuery && format == "Native" {
		return h.serveHello(w, q.Get("client_protocol_version"))
	}
	var res *chdb.Result
	switch {
	case role == roleInProcess:
		res, err = h.run(r.Context(), database, settings, sql, format, params, data)
	case data == nil:
		res, err = h.queryReadOnly(r.Context(), role, database, settings, sql, format, params)
	case role != RoleWriter:
		err = &httpError{status: http.StatusForbidden, err: fmt.Errorf(
			"Code: 164. DB::Exception: %s: Cannot execute query in readonly mode. (READONLY)", role)}
	default:
		s, _ := splitInsert(sql)
		if why := screenInsert(s); why != "" {
			err = &httpError{status: http.StatusForbidden, err: fmt.Errorf("Code: 497. DB::Exception: %s: %s. (ACCESS_DENIED)", role, why)}
			break
		}
		res, err = h.run(r.Context(), database, settings, sql, format, params, data)
	}
	if err != nil {
		return err
	}
	return writeResult(w, r, settings, format, res)
}

// run runs a statement (an INSERT when data is not nil) on a pooled
// connection, with every right.
func (h *Handler) run(ctx context.Context, database string, settings map[string]string, sql, format string,
	params map[string]string, data io.Reader) (*chdb.Result, error) {
	c, err := h.engine.Acquire(ctx)
	if err != nil {
		return nil, &httpError{status: http.StatusServiceUnavailable, err: err}
	}
	broken := false
	defer func() { h.engine.Release(c, broken) }()
	if err := c.Configure(database, settings); err != nil {
		return nil, err
	}
	if data == nil {
		return c.Query(sql, format, params)
	}
	s, _ := splitInsert(sql)
	inline := strings.NewReader(sql[s.data:])
	res, err := c.Insert(s.head, s.format, params, io.MultiReader(inline, data))
	var ce *chdb.Error
	broken = err != nil && !errors.As(err, &ce)
	return res, err
}

// queryReadOnly runs a statement for a network user on a connection of its
// own: the settings given, then readonly = 1, which the session can never
// leave, so the connection is closed afterwards. The statement must be one
// read statement (see screenRead), judged on the engine's own formatting
// of it.
func (h *Handler) queryReadOnly(ctx context.Context, role Role, database string, settings map[string]string, sql, format string,
	params map[string]string) (*chdb.Result, error) {
	c, err := h.engine.Acquire(ctx)
	if err != nil {
		return nil, &httpError{status: http.StatusServiceUnavailable, err: err}
	}
	defer h.engine.Release(c, true)
	delete(settings, "readonly") // always 1
	if err := c.Configure(database, settings); err != nil {
		return nil, err
	}
	if _, err := c.Query("SET readonly = 1", "", nil); err != nil {
		return nil, err
	}
	canonical, err := c.Query("SELECT formatQuery({q:String})", "RawBLOB", map[string]string{"q": escapeParam(sql)})
	if err != nil {
		return nil, err
	}
	if why := screenRead(string(canonical.Data)); why != "" {
		return nil, &httpError{status: http.StatusForbidden, err: fmt.Errorf("Code: 497. DB::Exception: %s: %s. (ACCESS_DENIED)", role, why)}
	}
	return c.Query(sql, format, params)
}

// escapeParam writes a string as a query parameter value: in the escaped
// form of the TabSeparated format, as the HTTP interface takes param_*.
func escapeParam(s string) string {
	return strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\t", "\\t", "\r", "\\r", "\x00", "\\0").Replace(s)
}

// writeResult answers with a statement's output, compressed as ClickHouse
// does when the client asks for it (enable_http_compression=1 and an
// Accept-Encoding of gzip or deflate).
func writeResult(w http.ResponseWriter, r *http.Request, settings map[string]string, format string, res *chdb.Result) error {
	hd := w.Header()
	hd.Set("Content-Type", contentType(format))
	hd.Set("X-ClickHouse-Format", format)
	hd.Set("X-ClickHouse-Summary", fmt.Sprintf(
		`{"read_rows":"%d","read_bytes":"%d","written_rows":"%d","written_bytes":"%d","total_rows_to_read":"0","result_rows":"0","result_bytes":"%d","elapsed_ns":"%d"}`,
		res.RowsRead, res.BytesRead, res.RowsWritten, res.BytesWritten, len(res.Data), res.Elapsed.Nanoseconds()))
	out := res.Data
	if enc := responseEncoding(r, settings); enc != "" {
		var b bytes.Buffer
		var zw io.WriteCloser
		if enc == "gzip" {
			zw = gzip.NewWriter(&b)
		} else {
			zw = zlib.NewWriter(&b)
		}
		_, _ = zw.Write(out)
		if err := zw.Close(); err != nil {
			return err
		}
		out = b.Bytes()
		hd.Set("Content-Encoding", enc)
	}
	hd.Set("Content-Length", strconv.Itoa(len(out)))
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(out)
	return nil
}

// responseEncoding is the compression of a response: gzip or deflate
// (zlib, as HTTP names it) when enable_http_compression is 1 and the
// client accepts it, else "".
func responseEncoding(r *http.Request, settings map[string]string) string {
	if r.URL.Query().Get("enable_http_compression") != "1" {
		return ""
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Encoding"), ",") {
		switch enc, _, _ := strings.Cut(strings.TrimSpace(part), ";"); enc {
		case "gzip", "deflate":
			return enc
		}
	}
	return ""
}

// decodeBody returns the request body, decompressed when its
// Content-Encoding is gzip or deflate.
func decodeBody(r *http.Request) (io.Reader, error) {
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
		return r.Body, nil
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			return nil, badRequest("Code: 354. DB::Exception: gzip body: %v. (CANNOT_DECOMPRESS)", err)
		}
		return zr, nil
	case "deflate":
		zr, err := zlib.NewReader(r.Body)
		if err != nil {
			return nil, badRequest("Code: 354. DB::Exception: deflate body: %v. (CANNOT_DECOMPRESS)", err)
		}
		return zr, nil
	default:
		return nil, badRequest("Code: 1. DB::Exception: Content-Encoding %q not supported by the embedded ClickHouse HTTP interface. (NOT_IMPLEMENTED)", enc)
	}
}

// readQuery reads a whole statement from the body.
func readQuery(r io.Reader) (string, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxQuery+1))
	if err != nil {
		return "", badRequest("read body: %w", err)
	}
	if len(b) > maxQuery {
		return "", badRequest("Code: 202. DB::Exception: query longer than %d bytes. (TOO_LARGE_STRING_SIZE)", maxQuery)
	}
	return string(b), nil
}

// serveHello answers clickhouse-go's greeting in Native format at the
// revision the client decodes it with, reporting revision 0 so that the
// client then decodes the engine's plain Native output.
func (h *Handler) serveHello(w http.ResponseWriter, clientRevision string) error {
	h.helloOnce.Do(func() {
		res, err := h.engine.Query(context.Background(), "SELECT displayName(), version(), timezone()", "TabSeparated", nil)
		if err != nil {
			h.helloErr = err
			return
		}
		h.hello = strings.Split(strings.TrimRight(string(res.Data), "\n"), "\t")
		if len(h.hello) != 3 {
			h.helloErr = fmt.Errorf("embedded: unexpected server info %q", res.Data)
		}
	})
	if h.helloErr != nil {
		return h.helloErr
	}
	rev, _ := strconv.ParseUint(clientRevision, 10, 64)
	b := nativeBlock(rev, []nativeColumn{
		{"displayName()", "String", h.hello[0]},
		{"version()", "String", h.hello[1]},
		{"revision()", "UInt32", uint32(0)},
		{"timezone()", "String", h.hello[2]},
	})
	w.Header().Set("Content-Type", contentType("Native"))
	w.Header().Set("X-ClickHouse-Format", "Native")
	w.Header().Set("Content-Length", strconv.Itoa(len(b)))
	_, _ = w.Write(b)
	return nil
}

// nativeColumn is one single-row column of a hand-made Native block.
type nativeColumn struct {
	name, typ string
	value     any // string or uint32
}

// revisionCustomSerialization is the first protocol revision whose Native
// blocks flag custom serialization per column.
const revisionCustomSerialization = 54454

// nativeBlock encodes a one-row Native block as a client of the given
// protocol revision reads it.
func nativeBlock(revision uint64, cols []nativeColumn) []byte {
	var b []byte
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	if revision > 0 { // block info: is_overflows = false, bucket_num = -1
		b = append(b, 1, 0, 2, 0xff, 0xff, 0xff, 0xff, 0)
	}
	b = binary.AppendUvarint(b, uint64(len(cols)))
	b = binary.AppendUvarint(b, 1)
	for _, c := range cols {
		str(c.name)
		str(c.typ)
		if revision >= revisionCustomSerialization {
			b = append(b, 0)
		}
		switch v := c.value.(type) {
		case string:
			str(v)
		case uint32:
			b = binary.LittleEndian.AppendUint32(b, v)
		}
	}
	return b
}

// contentType is the Content-Type ClickHouse sends for an output format.
func contentType(format string) string {
	switch strings.ToLower(format) {
	case "tabseparated", "tsv", "tabseparatedwithnames", "tsvwithnames", "tabseparatedwithnamesandtypes", "tsvwithnamesandtypes":
		return "text/tab-separated-values; charset=UTF-8"
	case "json", "jsoncompact", "jsoneachrow", "jsonstrings", "jsoncompacteachrow":
		return "application/json; charset=UTF-8"
	case "csv", "csvwithnames":
		return "text/csv; charset=UTF-8; header=absent"
	case "native", "rowbinary", "rowbinarywithnamesandtypes", "parquet", "arrow", "arrowstream":
		return "application/octet-stream"
	}
	return "text/plain; charset=UTF-8"
}

// statusFor maps an engine error code to the HTTP status ClickHouse uses.
func statusFor(code int) int {
	switch code {
	case 60, 81, 47, 16, 36, 46: // unknown table, database, identifier, column, bad arguments, function
		return http.StatusNotFound
	case 62, 115, 457, 6, 26, 27, 38, 41, 53, 69, 70, 72, 117, 1:
		return http.StatusBadRequest
	case 159, 164, 202:
		return http.StatusBadRequest
	case 516, 192:
		return http.StatusUnauthorized
	}
	return http.StatusInternalServerError
}

// writeError answers with the exception the way ClickHouse does.
func writeError(w http.ResponseWriter, err error) {
	status := http.StatusInternalServerError
	code := 1000 // POCO_EXCEPTION, ClickHouse's "unclassified"
	msg := err.Error()
	var ce *chdb.Error
	var he *httpError
	switch {
	case errors.As(err, &ce):
		msg = ce.Message
		if ce.Code != 0 {
			code = ce.Code
			status = statusFor(code)
		}
	case errors.As(err, &he):
		status = he.status
		if strings.HasPrefix(msg, "Code: ") {
			if n, perr := strconv.Atoi(strings.TrimPrefix(msg[:strings.IndexByte(msg, '.')], "Code: ")); perr == nil {
				code = n
			}
		}
	}
	if !strings.HasPrefix(msg, "Code: ") {
		msg = fmt.Sprintf("Code: %d. DB::Exception: %s", code, msg)
	}
	hd := w.Header()
	hd.Set("Content-Type", "text/plain; charset=UTF-8")
	hd.Set("X-ClickHouse-Exception-Code", strconv.Itoa(code))
	w.WriteHeader(status)
	var b bytes.Buffer
	b.WriteString(msg)
	b.WriteByte('\n')
	_, _ = w.Write(b.Bytes())
}
