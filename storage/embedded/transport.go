package embedded

import (
	"bytes"
	"net/http"
	"strconv"
)

// Transport returns an [http.RoundTripper] that hands every request to h in
// process: no socket, no loopback port.
func Transport(h http.Handler) http.RoundTripper { return roundTripper{h} }

type roundTripper struct{ h http.Handler }

// RoundTrip implements [http.RoundTripper].
func (rt roundTripper) RoundTrip(req *http.Request) (*http.Response, error) {
	if err := req.Context().Err(); err != nil {
		if req.Body != nil {
			_ = req.Body.Close()
		}
		return nil, err
	}
	if req.Body == nil {
		req.Body = http.NoBody
	}
	w := &responseWriter{header: http.Header{}}
	rt.h.ServeHTTP(w, req)
	// As http.Transport does: a writer still feeding the body is released.
	_ = req.Body.Close()
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.header.Set("Content-Length", strconv.Itoa(w.body.Len()))
	return &http.Response{
		Status:        strconv.Itoa(w.status) + " " + http.StatusText(w.status),
		StatusCode:    w.status,
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        w.header,
		Body:          &w.body,
		ContentLength: int64(w.body.Len()),
		Request:       req,
	}, nil
}

// responseWriter collects a response in memory.
type responseWriter struct {
	header http.Header
	status int
	body   bodyBuffer
}

func (w *responseWriter) Header() http.Header { return w.header }

func (w *responseWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
}

func (w *responseWriter) Write(p []byte) (int, error) {
	w.WriteHeader(http.StatusOK)
	return w.body.Write(p)
}

// bodyBuffer is a response body held in memory.
type bodyBuffer struct{ bytes.Buffer }

// Close implements io.Closer.
func (*bodyBuffer) Close() error { return nil }
