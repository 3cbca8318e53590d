package main

import (
	"bufio"
	"bytes"
	"encoding/json"
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
	"github.com/spf13/pflag"
)

func init() {
	register(command{
		name:    "parse",
		summary: "decode syslog lines (files or stdin) into JSON events, one per line",
		usage:   "[flags] [FILE...]",
		about: []string{
			"Reads syslog lines from the files, or stdin when none (or \"-\"), and writes",
			"exactly one JSON event per input line, in order. No services are needed."},
		flags: runParse,
	})
}

func runParse(fs *pflag.FlagSet) runFunc {
	pf := addParseFlags(fs)
	return func(args []string, stdout, stderr io.Writer) int {
		out := bufio.NewWriterSize(stdout, 64*1024)
		pr, err := pf.lineParser(out)
		if err != nil {
			fmt.Fprintf(stderr, "otsiem parse: %v\n", err)
			return 2
		}
		return pr.files("parse", args, stderr)
	}
}

// files parses the named files (stdin for none or "-") and flushes the
// output; it returns the exit code.
func (lp *lineParser) files(cmd string, files []string, stderr io.Writer) int {
	if len(files) == 0 {
		files = []string{"-"}
	}
	code := 0
	for _, name := range files {
		if err := lp.file(name, os.Stdin); err != nil {
			fmt.Fprintf(stderr, "otsiem %s: %v\n", cmd, err)
			code = 1
		}
	}
	if err := lp.out.Flush(); err != nil {
		fmt.Fprintf(stderr, "otsiem %s: %v\n", cmd, err)
		return 1
	}
	return code
}

// parseFlags are the flags of the commands that read raw syslog lines
// (parse, check, correlate).
type parseFlags struct {
	pretty                                 *bool
	decoder, site, tz, received, senderTxt *string
}

func addParseFlags(fs *pflag.FlagSet) *parseFlags {
	return &parseFlags{
		pretty:    fs.Bool("pretty", false, "indent the JSON for people (one object per input line, over several lines)"),
		decoder:   fs.String("decoder", "", "decode every line with this decoder instead of detecting: "+strings.Join(decode.Default.Names(), ", ")),
		site:      fs.String("site", "", "site name to put on every event"),
		tz:        fs.String("tz", "UTC", "timezone of timestamps that carry none (IANA name)"),
		received:  fs.String("received", "", "receive time of every line, RFC 3339 (default: now); fixes ids and RFC 3164 years"),
		senderTxt: fs.String("sender", "", "sender address to put on every event (device_ip)"),
	}
}

// lineParser returns a parser writing to out, or an error in the flags.
func (pf *parseFlags) lineParser(out *bufio.Writer) (*lineParser, error) {
	p, err := ingest.NewParser(*pf.site, *pf.decoder, *pf.tz)
	if err != nil {
		return nil, err
	}
	received := time.Now().UTC()
	if *pf.received != "" {
		if received, err = time.Parse(time.RFC3339Nano, *pf.received); err != nil {
			return nil, fmt.Errorf("--received: %w", err)
		}
	}
	var sender netip.Addr
	if *pf.senderTxt != "" {
		if sender, err = netip.ParseAddr(*pf.senderTxt); err != nil {
			return nil, fmt.Errorf("--sender: %w", err)
		}
	}
	return &lineParser{p: p, sender: sender, received: received, pretty: *pf.pretty, out: out}, nil
}

// lineParser writes one event per line read.
type lineParser struct {
	p        *decode.Parser
	sender   netip.Addr
	received time.Time
	pretty   bool
	out      *bufio.Writer
	n        int // lines parsed so far
	// each, when set, sees every event before it is written and may change
	// it; it returns whether to write it.
	each     func(*event.Event) bool
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
	if lp.each != nil && !lp.each(&lp.ev) {
		return nil
	}
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
