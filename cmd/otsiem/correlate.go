package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"time"

	"github.com/otsiem/otsiem/correlate"
	"github.com/otsiem/otsiem/ingest/bus"
	"github.com/otsiem/otsiem/ingest/event"
	"github.com/spf13/pflag"
)

func init() {
	register(command{
		name:    "correlate",
		summary: "replay syslog lines against a model: the findings, each once in its final state",
		usage:   "--model DIR [flags] [FILE...] | --config FILE",
		about: []string{
			"Replays syslog lines from the files, or stdin when none (or \"-\"), through the",
			"correlator and writes the findings as JSON lines, each once in its final state.",
			"Event time drives every window, so a replay gives the same findings every time.",
			"With --config it runs instead as the correlate stage against NATS JetStream."},
		flags: runCorrelate,
	})
}

func runCorrelate(fs *pflag.FlagSet) runFunc {
	model := fs.String("model", "", "the zone/conduit model (directory or file); required offline")
	cfgPath := fs.String("config", "", "run as a service against NATS JetStream with this configuration file")
	fold := fs.Duration("fold-window", time.Hour, "identical findings within this time of the last are folded into one")
	learn := fs.Duration("learn", 24*time.Hour, "baseline period for new_pair from the first event (negative: no new_pair)")
	scanPorts := fs.Int("scan-ports", 20, "distinct ports in other zones that make a scan")
	scanHosts := fs.Int("scan-hosts", 20, "distinct hosts in other zones that make a scan")
	scanWindow := fs.Duration("scan-window", time.Minute, "scan window")
	missed := fs.Int("diode-missed", 3, "missed heartbeats that make a diode down")
	pf := addParseFlags(fs)
	return func(args []string, stdout, stderr io.Writer) int {
		if *cfgPath != "" {
			return runCorrelateService(*cfgPath, stderr)
		}
		if *model == "" {
			return badUsage(stderr, "correlate", "give --model DIR to replay files, or --config FILE to run the correlate stage")
		}
		m, ok := loadModel(*model, stderr)
		if !ok {
			return 1
		}
		if *pf.site == "" {
			*pf.site = m.Site
		}
		out := bufio.NewWriterSize(stdout, 64*1024)
		pr, err := pf.lineParser(bufio.NewWriter(io.Discard))
		if err != nil {
			fmt.Fprintf(stderr, "otsiem correlate: %v\n", err)
			return 2
		}
		var col correlate.Collector
		eng := correlate.NewEngine(m, correlate.Config{Site: *pf.site, FoldWindow: *fold, Learn: *learn,
			ScanPorts: *scanPorts, ScanHosts: *scanHosts, ScanWindow: *scanWindow, DiodeMissed: *missed}, col.Emit)
		pr.each = func(ev *event.Event) bool {
			eng.Process(ev)
			return false
		}
		code := pr.files("correlate", args, stderr)
		eng.Drain()
		var buf []byte
		for i := range col.Items {
			buf = col.Items[i].AppendJSON(buf[:0])
			if *pf.pretty {
				var ind bytes.Buffer
				if err := json.Indent(&ind, buf, "", "  "); err == nil {
					buf = append(buf[:0], ind.Bytes()...)
				}
			}
			buf = append(buf, '\n')
			if _, err := out.Write(buf); err != nil {
				fmt.Fprintf(stderr, "otsiem correlate: %v\n", err)
				return 1
			}
		}
		if err := out.Flush(); err != nil {
			fmt.Fprintf(stderr, "otsiem correlate: %v\n", err)
			return 1
		}
		return code
	}
}

// runCorrelateService is `otsiem correlate --config FILE`.
func runCorrelateService(path string, stderr io.Writer) int {
	s, code := newServiceFrom("correlate", path, stderr)
	if s == nil {
		return code
	}
	return s.runStages(s.startCorrelate)
}

// startCorrelate starts the correlator on the bus; it judges by the
// model holder, so it follows reloads.
func (s *service) startCorrelate(ctx context.Context, p *pipeline) error {
	sc := s.cfg.Correlate.ServiceConfig
	sc.Bus, sc.Models, sc.Registerer, sc.Logger = p.bus, s.models, s.reg, s.log
	// The services read live collectors, whose receive times are real.
	sc.Engine.Site, sc.Engine.ReceiveClock = s.site, true
	svc, err := correlate.New(ctx, sc)
	if err != nil {
		return err
	}
	run := func(ctx context.Context) error { return errors.Join(svc.Run(ctx), svc.Close()) }
	p.correlate = startStage("correlate", run, svc.Err, bus.StreamEvents)
	return nil
}
