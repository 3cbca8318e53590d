package main

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/spf13/pflag"
)

func init() {
	register(command{name: "version", summary: "print otsiem's version: module version, VCS revision and Go version",
		about: []string{
			"Prints the version a report names (a release tag, or devel-REVISION[+dirty] for a build",
			"from a checkout), then the module, the VCS revision and time it was built from, and the",
			"Go toolchain, as the binary records them (runtime/debug.ReadBuildInfo)."},
		flags: func(*pflag.FlagSet) runFunc {
			return func(args []string, stdout, stderr io.Writer) int {
				if len(args) != 0 {
					return badUsage(stderr, "version", "unexpected argument %q", args[0])
				}
				printVersion(stdout)
				return 0
			}
		}})
}

// version is otsiem's version as reports name it: the module version of
// a release build, else devel-<12 digits of the VCS revision>, with
// "+dirty" when built from a modified work tree ("devel" without VCS
// information, "unknown" without build information).
func version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown"
	}
	return versionOf(bi)
}

func versionOf(bi *debug.BuildInfo) string {
	v := bi.Main.Version
	if v != "" && v != "(devel)" {
		return v
	}
	vcs := vcsInfo(bi)
	if vcs["vcs.revision"] == "" {
		return "devel"
	}
	v = "devel-" + vcs["vcs.revision"][:min(12, len(vcs["vcs.revision"]))]
	if vcs["vcs.modified"] == "true" {
		v += "+dirty"
	}
	return v
}

func vcsInfo(bi *debug.BuildInfo) map[string]string {
	out := map[string]string{}
	for _, s := range bi.Settings {
		out[s.Key] = s.Value
	}
	return out
}

// printVersion writes `otsiem version`'s lines.
func printVersion(w io.Writer) {
	fmt.Fprintf(w, "otsiem %s\n", version())
	if bi, ok := debug.ReadBuildInfo(); ok {
		fmt.Fprintf(w, "module   %s %s\n", bi.Main.Path, bi.Main.Version)
		vcs := vcsInfo(bi)
		if rev := vcs["vcs.revision"]; rev != "" {
			modified := ""
			if vcs["vcs.modified"] == "true" {
				modified = " (modified work tree)"
			}
			fmt.Fprintf(w, "revision %s %s%s\n", rev, vcs["vcs.time"], modified)
		}
	}
	fmt.Fprintf(w, "go       %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
