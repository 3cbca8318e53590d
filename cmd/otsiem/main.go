// Command otsiem is the OT SIEM binary: it validates zone/conduit models,
// parses and correlates syslog, and runs the ingest, correlate and store
// stages alone or all in one process.
//
// The command line is built with cobra (github.com/spf13/cobra): flags go
// anywhere among the arguments, -h/--help exits 0 for every command, a
// usage error exits 2 with one line saying what is wrong, and `otsiem
// completion bash|zsh|fish|powershell` writes a shell completion script.
package main

import (
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// runFunc runs a command with its positional arguments (flags already
// parsed) and returns the process exit code: 0 done, 1 failed, 2 usage.
type runFunc func(args []string, stdout, stderr io.Writer) int

// command is one otsiem subcommand. Each lives in its own file and registers
// itself in init, so main only builds the command line.
type command struct {
	name    string
	summary string
	// usage is what follows "otsiem NAME" in the usage line, e.g.
	// "[--strict] PATH"; about is the help text under it.
	usage string
	about []string
	// flags declares the command's flags on fs and returns what runs it.
	flags func(fs *pflag.FlagSet) runFunc
	// raw, instead of flags, is handed the arguments unparsed (a command
	// that parses its own flags).
	raw runFunc
	// sub are subcommands (otsiem findings ack).
	sub []command
}

var commands = map[string]command{}

func register(c command) { commands[c.name] = c }

func main() {
	os.Exit(dispatch(os.Args[1:], os.Stdout, os.Stderr))
}

// dispatch runs the command line args and returns the exit code.
func dispatch(args []string, stdout, stderr io.Writer) int {
	code := 0
	root := &cobra.Command{
		Use:   "otsiem",
		Short: "an OT SIEM: judges industrial firewalls', sensors' and diodes' syslog against an IEC 62443 zone/conduit model",
		Long: "otsiem watches an industrial plant's IEC 62443-3-2 zones and conduits from the syslog its firewalls,\n" +
			"DPI sensors and data diodes send. One binary runs every stage (otsiem run: all in one process)\n" +
			"and the offline tools.",
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          cobra.NoArgs,
		// Without a command: the help, and a usage error's exit code.
		RunE: func(c *cobra.Command, _ []string) error {
			c.SetOut(stderr)
			_ = c.Help()
			code = 2
			return nil
		},
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.Version = version()
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		root.AddCommand(cobraCommand(commands[n], "otsiem", stdout, stderr, &code))
	}
	root.SetArgs(longFlags(root, args))
	if c, err := root.ExecuteC(); err != nil {
		name := "otsiem"
		if c != nil {
			name = c.CommandPath()
		}
		fmt.Fprintf(stderr, "%s: %v (see %s --help)\n", name, err, name)
		return 2
	}
	return code
}

// cobraCommand builds c's cobra command; its exit code goes to code.
func cobraCommand(c command, parent string, stdout, stderr io.Writer, code *int) *cobra.Command {
	path := parent + " " + c.name
	cc := &cobra.Command{
		Use:   strings.TrimSpace(c.name + " " + c.usage),
		Short: c.summary,
		Long:  strings.Join(c.about, "\n"),
		// The usage line names the flags it needs; the rest are listed.
		DisableFlagsInUseLine: true,
	}
	switch {
	case c.raw != nil:
		cc.DisableFlagParsing = true
		cc.RunE = func(_ *cobra.Command, args []string) error {
			*code = c.raw(args, stdout, stderr)
			return nil
		}
	case c.flags != nil:
		run := c.flags(cc.Flags())
		cc.RunE = func(_ *cobra.Command, args []string) error {
			*code = run(args, stdout, stderr)
			return nil
		}
	}
	for _, s := range c.sub {
		cc.AddCommand(cobraCommand(s, path, stdout, stderr, code))
	}
	return cc
}

// longFlags rewrites a single-dash long flag (-config FILE, as Go's flag
// package took it) to its double-dash form, for the flags of the command
// args name, so that command lines written before otsiem used cobra work
// unchanged.
func longFlags(root *cobra.Command, args []string) []string {
	c, _, err := root.Find(args)
	if err != nil || c == root {
		return args
	}
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = a
		if a == "--" {
			copy(out[i:], args[i:])
			break
		}
		if len(a) < 3 || a[0] != '-' || a[1] == '-' {
			continue
		}
		name, _, _ := strings.Cut(a[1:], "=")
		if len(name) > 1 && c.Flags().Lookup(name) != nil {
			out[i] = "-" + a
		}
	}
	return out
}

// badUsage reports a usage error in one line and returns its exit code, 2.
func badUsage(stderr io.Writer, cmd, format string, a ...any) int {
	fmt.Fprintf(stderr, "otsiem %s: %s (see otsiem %s --help)\n", cmd, fmt.Sprintf(format, a...), cmd)
	return 2
}
