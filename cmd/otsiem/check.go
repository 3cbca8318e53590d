package main

import (
	"bufio"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/otsiem/otsiem/correlate"
	"github.com/otsiem/otsiem/ingest/event"
)

func init() {
	register(command{
		name:    "check",
		summary: "judge syslog lines against a model: one JSON event with its verdict per line",
		run:     runCheck,
	})
}

func runCheck(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("check", stderr, "usage: otsiem check --model DIR [flags] [FILE...]",
		"Reads syslog lines from the files, or stdin when none (or \"-\"), and writes",
		"exactly one JSON event per input line, in order, with src_zone, dst_zone,",
		"conduit, verdict and reason. No services are needed.")
	model := fs.String("model", "", "the zone/conduit model (directory or file); required")
	pf := addParseFlags(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if *model == "" {
		fs.Usage()
		return 2
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
	return pr.files("check", fs.Args(), stderr)
}
