package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/netip"
	"os"
	"strings"
	"time"

	"github.com/otsiem/otsiem/ingest"
	"github.com/otsiem/otsiem/ingest/decode"
	_ "github.com/otsiem/otsiem/ingest/decode/all" // every vendor decoder
	"github.com/otsiem/otsiem/ingest/event"
)

func init() {
	register(command{
		name:    "parse",
		summary: "decode syslog lines (files or stdin) into JSON events, one per line",
		run:     runParse,
	})
}

func runParse(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("parse", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: otsiem parse [flags] [FILE...]")
		fmt.Fprintln(stderr, "\nReads syslog lines from the files, or stdin when none (or \"-\"), and writes")
		fmt.Fprintln(stderr, "exactly one JSON event per input line, in order. No services are needed.")
		fmt.Fprintln(stderr, "\nflags:")
		fs.PrintDefaults()
	}
	pretty := fs.Bool("pretty", false, "indent the JSON for people (one object per input line, over several lines)")
	decoderName := fs.String("decoder", "", "decode every line with this decoder instead of detecting: "+strings.Join(decode.Default.Names(), ", "))
	site := fs.String("site", "", "site name to put on every event")
	tz := fs.String("tz", "UTC", "timezone of timestamps that carry none (IANA name)")
	recv := fs.String("received", "", "receive time of every line, RFC 3339 (default: now); fixes ids and RFC 3164 years")
	senderText := fs.String("sender", "", "sender address to put on every event (device_ip)")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	p, err := ingest.NewParser(*site, *decoderName, *tz)
	if err != nil {
		fmt.Fprintf(stderr, "otsiem parse: %v\n", err)
		return 2
	}
	received := time.Now().UTC()
	if *recv != "" {
		if received, err = time.Parse(time.RFC3339Nano, *recv); err != nil {
			fmt.Fprintf(stderr, "otsiem parse: --received: %v\n", err)
			return 2
		}
	}
	var sender netip.Addr
	if *senderText != "" {
		if sender, err = netip.ParseAddr(*senderText); err != nil {
			fmt.Fprintf(stderr, "otsiem parse: --sender: %v\n", err)
			return 2
		}
	}
	out := bufio.NewWriterSize(stdout, 64*1024)
	pr := &lineParser{p: p, sender: sender, received: received, pretty: *pretty, out: out}
	files := fs.Args()
	if len(files) == 0 {
		files = []string{"-"}
	}
	code := 0
	for _, name := range files {
		if err := pr.file(name, os.Stdin); err != nil {
			fmt.Fprintf(stderr, "otsiem parse: %v\n", err)
			code = 1
		}
	}
	if err := out.Flush(); err != nil {
		fmt.Fprintf(stderr, "otsiem parse: %v\n", err)
		return 1
	}
	return code
}

// lineParser writes one event per line read.
type lineParser struct {
	p        *decode.Parser
	sender   netip.Addr
	received time.Time
	pretty   bool
	out      *bufio.Writer
	n        int // lines parsed so far
	ev       event.Event
	buf      []byte
	indented bytes.Buffer
}

func (lp *lineParser) file(name string, stdin io.Reader) error {
	r := stdin
	if name != "-" {
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		defer f.Close()
		r = f
	}
	br := bufio.NewReaderSize(r, 64*1024)
	for {
		line, err := br.ReadBytes('\n')
		if len(line) > 0 {
			if werr := lp.line(bytes.TrimSuffix(line, []byte("\n"))); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
}

func (lp *lineParser) line(line []byte) error {
	// Each line is received one nanosecond after the one before, so that
	// identical lines keep distinct ids.
	lp.p.Parse(line, lp.sender, lp.received.Add(time.Duration(lp.n)), &lp.ev)
	lp.n++
	lp.buf = lp.ev.AppendJSON(lp.buf[:0])
	if lp.pretty {
		lp.indented.Reset()
		if err := json.Indent(&lp.indented, lp.buf, "", "  "); err != nil {
			return err
		}
		lp.buf = append(lp.buf[:0], lp.indented.Bytes()...)
	}
	lp.buf = append(lp.buf, '\n')
	_, err := lp.out.Write(lp.buf)
	return err
}
