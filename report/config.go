package report

import (
	"errors"
	"fmt"
	"time"

	"github.com/otsiem/otsiem/setting"
)

// Schedule is one entry of the configuration's reports: section: a report
// for every closed period, written once into Dir in each format.
type Schedule struct {
	// Every is daily, weekly (Monday to Monday), monthly or quarterly;
	// periods are calendar periods in UTC.
	Every string `yaml:"every"`
	// Formats to write (default: text, html and pdf).
	Formats []string `yaml:"formats"`
	// Dir is the output directory (default: <data_dir>/reports).
	Dir string `yaml:"dir" config:"path"`
	// Delay is how long after a period closes its report waits for late
	// events (default 15m).
	Delay time.Duration `yaml:"delay"`
}

// Validate reports a schedule that cannot work, as setting.FieldErrors.
func (s Schedule) Validate() error {
	var errs []error
	if _, _, err := LastPeriod(s.Every, time.Now(), 1); err != nil {
		errs = append(errs, setting.Errorf("every", "%w", err))
	}
	for i, f := range s.Formats {
		if _, ok := Formats[f]; !ok {
			errs = append(errs, setting.Errorf(fmt.Sprintf("formats[%d]", i), "%q: want text, markdown, html, pdf or json", f))
		}
	}
	if s.Delay < 0 {
		errs = append(errs, setting.Errorf("delay", "%s: must not be negative", s.Delay))
	}
	return errors.Join(errs...)
}
