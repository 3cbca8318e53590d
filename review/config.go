package review

import (
	"errors"

	"github.com/otsiem/otsiem/setting"
)

// Config is the configuration file's `review:` section: when `otsiem
// review` calls a monitor-mode firewall ready to enforce, and when it and
// `otsiem propose` call an observed flow regular enough to be a missing
// conduit rule.
type Config struct {
	Thresholds `yaml:",inline"`
	Recurrence `yaml:",inline"`
}

// DefaultConfig is the seed's: DefaultThresholds and DefaultRecurrence.
func DefaultConfig() Config {
	return Config{Thresholds: DefaultThresholds, Recurrence: DefaultRecurrence}
}

// Validate reports settings that cannot work, as setting.FieldErrors.
func (c Config) Validate() error {
	var errs []error
	for _, v := range []struct {
		key string
		n   int
	}{{"min_observed_days", c.MinObservedDays}, {"recent_days", c.RecentDays}, {"min_count", c.MinCount}, {"min_days", c.MinDays}} {
		if v.n < 1 {
			errs = append(errs, setting.Errorf(v.key, "%d: want 1 or more", v.n))
		}
	}
	for _, v := range []struct {
		key string
		n   int
	}{{"max_silent_days", c.MaxSilentDays}, {"max_would_false_block", c.MaxWouldFalseBlock}} {
		if v.n < -1 {
			errs = append(errs, setting.Errorf(v.key, "%d: want 0 or more, or -1 to skip the check", v.n))
		}
	}
	return errors.Join(errs...)
}

// Thresholds decide when a monitor-mode firewall is ready to enforce. The
// defaults are the seed's ("analyze firewall logs for 2 weeks to identify
// any legitimate traffic that would be blocked"): at least 14 full days
// with logs, no day without logs in the last 7, no would_false_block flow
// in the last 7 days. A negative maximum turns its check off.
type Thresholds struct {
	MinObservedDays    int  `json:"min_observed_days" yaml:"min_observed_days"`         // full days with logs from the device
	RecentDays         int  `json:"recent_days" yaml:"recent_days"`                     // the window of the checks below
	MaxSilentDays      int  `json:"max_silent_days" yaml:"max_silent_days"`             // days without logs in the recent window
	MaxWouldFalseBlock int  `json:"max_would_false_block" yaml:"max_would_false_block"` // would_false_block flows last seen in the recent window
	MissingRulesBlock  bool `json:"missing_rules_block" yaml:"missing_rules_block"`     // flows that look like missing conduit rules make it NOT READY
}

// DefaultThresholds are the seed's.
var DefaultThresholds = Thresholds{MinObservedDays: 14, RecentDays: 7}

// Recurrence says when an observed flow is regular enough to be a
// legitimate path the model forgot, rather than a one-off.
type Recurrence struct {
	MinCount int `json:"min_count" yaml:"min_count"` // events at least; default 10
	MinDays  int `json:"min_days" yaml:"min_days"`   // on at least this many distinct days (UTC); default 3
}

// DefaultRecurrence is a flow seen 10 times on 3 days.
var DefaultRecurrence = Recurrence{MinCount: 10, MinDays: 3}
