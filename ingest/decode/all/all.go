// Package all registers every otsiem vendor decoder in decode.Default;
// import it for its side effect.
package all

import (
	_ "github.com/otsiem/otsiem/ingest/decode/asa"       // Cisco ASA / FTD / ISA-3000
	_ "github.com/otsiem/otsiem/ingest/decode/diode"     // otsiem data diode health format
	_ "github.com/otsiem/otsiem/ingest/decode/fortigate" // FortiGate / FortiGate Rugged
	_ "github.com/otsiem/otsiem/ingest/decode/panos"     // Palo Alto Networks PAN-OS
	_ "github.com/otsiem/otsiem/ingest/decode/suricata"  // Suricata EVE JSON
	_ "github.com/otsiem/otsiem/ingest/decode/zeek"      // Zeek JSON logs, CISA ICSNPP
)
