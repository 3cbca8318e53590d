package asa

import (
	"strings"

	"github.com/otsiem/otsiem/ingest/decode"
	"github.com/otsiem/otsiem/ingest/event"
)

// ftdPairs yields the "Key: value" pairs of an FTD 430001-430005 body,
// separated by ", ". A ", " inside a value is kept when what follows it
// does not look like "Key: ".
func ftdPairs(s string, f func(k, v string)) {
	for s != "" {
		colon := strings.Index(s, ": ")
		if colon <= 0 {
			return
		}
		key := s[:colon]
		rest := s[colon+2:]
		end := len(rest)
		for off := 0; ; {
			i := strings.Index(rest[off:], ", ")
			if i < 0 {
				break
			}
			if isFTDKey(rest[off+i+2:]) {
				end = off + i
				break
			}
			off += i + 2
		}
		f(key, rest[:end])
		if end == len(rest) {
			return
		}
		s = rest[end+2:]
	}
}

// isFTDKey reports whether s starts with "Key: " (letters, digits, spaces
// and _ in the key).
func isFTDKey(s string) bool {
	for i := 0; i < len(s) && i < 48; i++ {
		c := s[i]
		if c == ':' {
			return i > 0 && i+1 < len(s) && s[i+1] == ' '
		}
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == ' ' || c == '_') {
			return false
		}
	}
	return false
}

// ftd decodes the FTD connection (430002 start, 430003 end), intrusion
// (430001) and file/malware (430004, 430005) events.
func ftd(text string, ev *event.Event) bool {
	id := ev.MessageID
	switch id {
	case "430001", "430004", "430005":
		ev.Kind = event.KindAlert
		ev.Action = event.ActionAlert
	default:
		ev.Kind = event.KindFlow
		ev.Action = event.ActionUnknown
	}
	var ib, rb, ip, rp event.Opt[uint64]
	var gid, sid string
	n := 0
	ftdPairs(text, func(k, v string) {
		n++
		switch k {
		case "SrcIP":
			ev.SrcIP = decode.Addr(v)
		case "DstIP":
			ev.DstIP = decode.Addr(v)
		case "SrcPort":
			ev.SrcPort = decode.Port(v)
		case "DstPort":
			ev.DstPort = decode.Port(v)
		case "Protocol":
			ev.Transport = transport(v)
		case "IngressInterface":
			ev.SrcInterface = v
		case "EgressInterface":
			ev.DstInterface = v
		case "AccessControlRuleName":
			ev.Rule = v
		case "AccessControlRuleAction":
			if ev.Kind == event.KindFlow {
				ev.Action = ftdAction(v)
			}
			ev.SetAttr("rule_action", v)
		case "ApplicationProtocol":
			ev.AppProtocol = decode.AppProtocol(v)
		case "User":
			if v != "No Authentication Required" && v != "Not Found" {
				ev.SrcUser = v
			}
		case "InitiatorBytes":
			ib = decode.Uint(v)
		case "ResponderBytes":
			rb = decode.Uint(v)
		case "InitiatorPackets":
			ip = decode.Uint(v)
		case "ResponderPackets":
			rp = decode.Uint(v)
		case "GID":
			gid = v
		case "SID":
			sid = v
		case "Message":
			ev.Signature = v
		case "InlineResult":
			ev.SetAttr("inline_result", v)
			if v == "Blocked" || v == "Dropped" {
				ev.Action = event.ActionDrop
			}
		case "FileAction":
			ev.SetAttr("file_action", v)
			if strings.HasPrefix(v, "Block") {
				ev.Action = event.ActionDeny
			}
		default:
			ev.SetAttr(k, v)
		}
	})
	ev.Bytes = decode.Sum(ib, rb)
	ev.Packets = decode.Sum(ip, rp)
	if sid != "" {
		ev.SignatureID = sid
		if gid != "" {
			ev.SignatureID = gid + ":" + sid
		}
	}
	if ev.AppProtocol != "" && ev.DstPort.OK {
		if code, ok := decode.FunctionCode(ev.AppProtocol, ev.Signature); ok {
			ev.FunctionCode = event.Some(code)
		}
	}
	return n > 0 && (ev.SrcIP.IsValid() || ev.DstIP.IsValid())
}

// ftdAction maps an access control rule action.
func ftdAction(v string) event.Action {
	switch strings.ToLower(v) {
	case "allow", "trust", "fastpath", "monitor":
		return event.ActionAllow
	case "block":
		return event.ActionDeny
	case "block with reset", "reset":
		return event.ActionReset
	case "interactive block", "interactive block with reset":
		return event.ActionDeny
	}
	return event.ActionUnknown
}
