package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/otsiem/otsiem/simulate"
	"github.com/spf13/pflag"
)

func init() {
	register(command{name: "simulate", summary: "send realistic syslog for the refinery example, with injected scenarios", usage: "[--rate N] [--duration D | --count N] [--seed N] [--scenario all] [--target URL] [--fast]",
		about: []string{
			"Sends realistic syslog of the refinery example (examples/refinery): its firewalls,",
			"sensors and data diode, with the scenarios injected (otsiem simulate --list)."},
		flags: runSimulate})
}

func runSimulate(fs *pflag.FlagSet) runFunc {
	rate := fs.Float64("rate", 100, "lines per second")
	duration := fs.Duration("duration", 0, "how much event time to generate (0: until interrupted or --count)")
	count := fs.Int("count", 0, "stop after this many lines (0: no limit)")
	seed := fs.Uint64("seed", 1, "random seed: the same seed, start and rate give the same lines")
	scenarios := fs.String("scenario", "", "comma-separated scenarios to inject, or \"all\": "+strings.Join(simulate.ScenarioNames(), ", "))
	every := fs.Duration("scenario-every", 20*time.Second, "event time between injected scenarios")
	target := fs.String("target", "udp://127.0.0.1:5514", "udp://HOST:PORT, tcp://HOST:PORT, tls://HOST:PORT, or file:PATH (file:- for stdout)")
	startAt := fs.String("start", "", "event time of the first line, RFC 3339 (default: now)")
	fast := fs.Bool("fast", false, "send as fast as possible instead of at --rate (event times still spaced at --rate)")
	caFile := fs.String("tls-ca", "", "CA file to verify a tls:// collector")
	certFile := fs.String("tls-cert", "", "client certificate for tls://")
	keyFile := fs.String("tls-key", "", "client key for tls://")
	list := fs.Bool("list", false, "list the scenarios and exit")
	return func(args []string, stdout, stderr io.Writer) int {
		if *list {
			tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
			for _, n := range simulate.ScenarioNames() {
				fmt.Fprintf(tw, "%s\t%s\n", n, simulate.Scenarios[n])
			}
			tw.Flush()
			return 0
		}
		cfg := simulate.Config{Rate: *rate, Seed: *seed, ScenarioEvery: *every}
		if *scenarios != "" {
			cfg.Scenarios = strings.Split(*scenarios, ",")
		}
		if *startAt != "" {
			t, err := time.Parse(time.RFC3339Nano, *startAt)
			if err != nil {
				fmt.Fprintf(stderr, "otsiem simulate: --start: %v\n", err)
				return 2
			}
			cfg.Start = t
		}
		g, err := simulate.New(cfg)
		if err != nil {
			fmt.Fprintf(stderr, "otsiem simulate: %v\n", err)
			return 2
		}
		t, err := parseTarget(*target, *caFile, *certFile, *keyFile)
		if err != nil {
			fmt.Fprintf(stderr, "otsiem simulate: %v\n", err)
			return 2
		}
		ctx, cancel := signalContext()
		defer cancel()
		w, err := simulate.Dial(ctx, t)
		if err != nil {
			fmt.Fprintf(stderr, "otsiem simulate: %v\n", err)
			return 1
		}
		st, err := simulate.Run(ctx, g, w, *duration, *count, !*fast)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		printSimStats(stderr, st)
		if err != nil {
			fmt.Fprintf(stderr, "otsiem simulate: %v\n", err)
			return 1
		}
		return 0
	}
}

func parseTarget(s, ca, cert, key string) (simulate.Target, error) {
	if p, ok := strings.CutPrefix(s, "file:"); ok {
		return simulate.Target{Network: "file", Address: p}, nil
	}
	scheme, addr, ok := strings.Cut(s, "://")
	if !ok {
		return simulate.Target{}, fmt.Errorf("--target %q: want udp://, tcp://, tls:// or file:", s)
	}
	t := simulate.Target{Network: scheme, Address: addr}
	if scheme == "tls" {
		t.TLS = &tls.Config{MinVersion: tls.VersionTLS12}
		if ca != "" {
			pem, err := os.ReadFile(ca)
			if err != nil {
				return t, err
			}
			t.TLS.RootCAs = x509.NewCertPool()
			t.TLS.RootCAs.AppendCertsFromPEM(pem)
		}
		if cert != "" {
			c, err := tls.LoadX509KeyPair(cert, key)
			if err != nil {
				return t, err
			}
			t.TLS.Certificates = []tls.Certificate{c}
		}
	}
	return t, nil
}

func printSimStats(w io.Writer, st simulate.Stats) {
	fmt.Fprintf(w, "sent %d lines\n", st.Lines)
	for _, m := range []map[string]int{st.ByDevice, st.ByScenario} {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			fmt.Fprintf(w, "  %-16s %d\n", k, m[k])
		}
	}
}
