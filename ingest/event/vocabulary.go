package event

// The vocabulary of verdicts and findings, shared by every stage so that
// nothing downstream spells them as string literals: correlate writes
// them, storage's named queries, the CLI, the console, the dashboards and
// the reports read them.

// Verdicts: the judgement of one event against the declared zone and
// conduit design (see correlate.Judge for the table).
const (
	VerdictAllowed     = "allowed"
	VerdictViolation   = "violation"    // seen by a sensor or an off-path device; the design forbids it
	VerdictPolicyDrift = "policy_drift" // an enforcing firewall permitted what the design forbids
	VerdictWouldBlock  = "would_block"  // a monitor-mode firewall passed what the design forbids
	VerdictBlocked     = "blocked"      // a firewall denied what the design forbids
	VerdictFalseBlock  = "false_block"  // a firewall denied what the design allows
	VerdictIntraZone   = "intra_zone"
	VerdictUnknownZone = "unknown_zone"
)

// PolicyBreakingVerdicts are the verdicts of traffic that got through, or
// gets through until a monitor-mode firewall enforces, against the declared
// design: the one definition of "policy-breaking" (storage.PolicyBreaking is
// its SQL form). Every reason counts under them, air_gap and diode_reverse
// included; a reason alone never makes an event policy-breaking: blocked
// (enforcement worked) and false_block (enforcement broke legitimate
// traffic) are enforcement outcomes, counted apart.
var PolicyBreakingVerdicts = []string{VerdictViolation, VerdictPolicyDrift, VerdictWouldBlock}

// IsPolicyBreaking reports whether a verdict is one of PolicyBreakingVerdicts.
func IsPolicyBreaking(verdict string) bool {
	return verdict == VerdictViolation || verdict == VerdictPolicyDrift || verdict == VerdictWouldBlock
}

// Finding types beyond the verdicts (a verdict finding's type is its
// verdict: violation, policy_drift, would_block, blocked, false_block,
// unknown_zone).
const (
	TypeScan                = "scan"                  // one source probing many ports or hosts in other zones
	TypeDiodeDown           = "diode_down"            // a diode side silent or reporting itself down
	TypeDiodeDegraded       = "diode_degraded"        // a diode side degraded, lagging or stuck starting
	TypeDiodeReportRejected = "diode_report_rejected" // a diode health report otsiem did not take (undeclared diode, wrong sender)
	TypeNewPair             = "new_pair"              // a communication pair first seen after the baseline
	TypeWouldFalseBlock     = "would_false_block"     // a monitor-mode firewall would deny what the design allows
	TypeClockSkew           = "clock_skew"            // a device's clock runs ahead of otsiem's
	TypeAlert               = "alert"                 // an IDS/IPS signature match (reason prevented or detected)
)

// FindingTypes lists every finding type otsiem produces, for validation
// and documentation. A stage adding a type adds it here.
var FindingTypes = []string{
	VerdictViolation, VerdictPolicyDrift, VerdictWouldBlock, VerdictBlocked, VerdictFalseBlock, VerdictUnknownZone,
	TypeScan, TypeDiodeDown, TypeDiodeDegraded, TypeDiodeReportRejected, TypeNewPair, TypeWouldFalseBlock, TypeClockSkew,
	TypeAlert,
}

// Severities lists the severities, most severe first.
var Severities = []Severity{SeverityCritical, SeverityHigh, SeverityMedium, SeverityLow, SeverityInfo}

// Analyst states of a finding (see storage.FindingState): open until an
// analyst acknowledges or closes it; a new revision with new evidence after
// that reopens it. A finding the correlator folded into another (a scan's
// first probes) is absorbed: it is handled through that one.
const (
	StateOpen         = "open"
	StateAcknowledged = "acknowledged"
	StateClosed       = "closed"
	StateAbsorbed     = "absorbed"
)

// States lists the analyst states.
var States = []string{StateOpen, StateAcknowledged, StateClosed, StateAbsorbed}
