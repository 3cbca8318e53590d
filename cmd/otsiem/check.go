package main

import (
	"bufio"
	"fmt"
	"io"

	"github.com/otsiem/otsiem/correlate"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/spf13/pflag"
)

func init() {
	register(command{
		name:    "check",
		summary: "judge syslog lines against a model: one JSON event with its verdict per line",
		usage:   "--model DIR [flags] [FILE...]",
		about: []string{
			"Reads syslog lines from the files, or stdin when none (or \"-\"), and writes",
			"exactly one JSON event per input line, in order, with src_zone, dst_zone,",
			"conduit, verdict and reason. No services are needed."},
		flags: runCheck,
	})
}

func runCheck(fs *pflag.FlagSet) runFunc {
	model := fs.String("model", "", "the zone/conduit model (directory or file); required")
	pf := addParseFlags(fs)
	return func(args []string, stdout, stderr io.Writer) int {
		if *model == "" {
			return badUsage(stderr, "check", "--model DIR is required")
		}
		m, ok := loadModel(*model, stderr)
		if !ok {
			return 1
		}
		if *pf.site == "" {
			*pf.site = m.Site
		}
		pr, err := pf.lineParser(bufio.NewWriterSize(stdout, 64*1024))
		if err != nil {
			fmt.Fprintf(stderr, "otsiem check: %v\n", err)
			return 2
		}
		conns := correlate.NewConnections(0)
		pr.each = func(ev *event.Event) bool {
			conns.Orient(ev)
			correlate.Enrich(m, ev)
			return true
		}
		return pr.files("check", args, stderr)
	}
}
