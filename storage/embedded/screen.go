package embedded

import "strings"

// The checks below are the second of two locks on what a network user may
// run; the first is the engine's own readonly = 1, under which every
// statement of a reader runs (see Handler.queryReadOnly). readonly = 1
// refuses writes, DDL, SYSTEM, KILL, settings changes and the table
// functions that reach outside the database (file, url, remote, s3,
// executable, …). It does not stop two things that touch the host in the
// embedded engine, which runs as clickhouse-local does: the scalar
// function file(), which reads any file, and SELECT … INTO OUTFILE, which
// writes one. Those, and the statements readers have no use for, are
// refused here, on the engine's own formatting of the statement
// (formatQuery), so that comments, case and quoting cannot hide them.

// readStatements are the first keywords of the statements a reader may
// run.
var readStatements = map[string]bool{
	"SELECT": true, "WITH": true, "SHOW": true, "DESCRIBE": true, "DESC": true, "EXISTS": true, "EXPLAIN": true,
}

// hostFunctions are functions (scalar or table) that read or write outside
// the database: refused by name, whatever readonly allows.
var hostFunctions = map[string]bool{
	"file": true, "filecluster": true, "url": true, "urlcluster": true, "remote": true, "remotesecure": true,
	"cluster": true, "clusterallreplicas": true, "s3": true, "s3cluster": true, "gcs": true, "hdfs": true,
	"hdfscluster": true, "azureblobstorage": true, "azureblobstoragecluster": true, "executable": true,
	"executablepool": true, "input": true, "mysql": true, "postgresql": true, "sqlite": true, "mongodb": true,
	"redis": true, "odbc": true, "jdbc": true, "iceberg": true, "icebergs3": true, "deltalake": true, "hudi": true,
	"arrowflight": true, "ytsaurus": true,
}

// screenRead checks a statement, as the engine's formatQuery wrote it,
// for what a reader may run. It returns a reason to refuse, or "".
func screenRead(canonical string) string {
	l := lexer{s: canonical}
	first := strings.ToUpper(l.word())
	if !readStatements[first] {
		return first + " statements are not allowed: a reader reads, a writer also inserts data (INSERT … FORMAT)"
	}
	prev := ""
	for {
		_, tok := l.next()
		if tok == "" {
			return ""
		}
		switch {
		case tok == "(" && hostFunctions[strings.ToLower(strings.Trim(prev, "`\""))]:
			return "function " + strings.Trim(prev, "`\"") + " reaches outside the database"
		case strings.EqualFold(prev, "INTO") && strings.EqualFold(tok, "OUTFILE"),
			strings.EqualFold(prev, "FROM") && strings.EqualFold(tok, "INFILE"):
			return strings.ToUpper(prev+" "+tok) + " reaches the host's files"
		}
		prev = tok
	}
}

// insertFormats are the data formats a writer may insert in: formats whose
// data is only data (VALUES evaluates expressions; Template, Protobuf,
// CapnProto and the like read schema files).
var insertFormats = map[string]bool{
	"native": true, "rowbinary": true, "rowbinarywithnames": true, "rowbinarywithnamesandtypes": true,
	"tabseparated": true, "tsv": true, "tabseparatedwithnames": true, "tsvwithnames": true,
	"tabseparatedwithnamesandtypes": true, "tsvwithnamesandtypes": true, "csv": true, "csvwithnames": true,
	"jsoneachrow": true, "jsoncompacteachrow": true,
}

// screenInsert checks an INSERT with data for what a writer may run: into
// a table by name (database.table), an optional column list, and a data
// format of insertFormats. It returns a reason to refuse, or "".
func screenInsert(s insertSplit) string {
	if !insertFormats[strings.ToLower(s.format)] {
		return "format " + s.format + " is not allowed for inserts"
	}
	l := lexer{s: s.head}
	if !strings.EqualFold(l.word(), "INSERT") || !strings.EqualFold(l.word(), "INTO") {
		return "not an INSERT INTO"
	}
	tok := l.word()
	if strings.EqualFold(tok, "TABLE") {
		tok = l.word()
	}
	if !isName(tok) {
		return "INSERT INTO " + tok + ": only a table may be inserted into"
	}
	if tok = l.word(); tok == "." {
		if !isName(l.word()) {
			return "INSERT INTO: only a table may be inserted into"
		}
		tok = l.word()
	}
	if tok == "(" {
		for {
			if !isName(l.word()) {
				return "INSERT INTO: a column list holds column names only"
			}
			if tok = l.word(); tok == ")" {
				break
			}
			if tok != "," {
				return "INSERT INTO: a column list holds column names only"
			}
		}
		tok = l.word()
	}
	if tok != "" {
		return "INSERT INTO: " + tok + " is not allowed before the data"
	}
	return ""
}

// isName reports whether a token is an identifier, plain or quoted.
func isName(tok string) bool {
	if len(tok) >= 2 && (tok[0] == '`' || tok[0] == '"') && tok[len(tok)-1] == tok[0] {
		return true
	}
	return isWord(tok) && !(tok[0] >= '0' && tok[0] <= '9')
}

// readerSettings are the settings a network user may give with a query:
// limits and output details, nothing that reaches files or changes what
// readonly allows. The writer may also give writerSettings.
var readerSettings = map[string]bool{
	"max_execution_time": true, "timeout_overflow_mode": true, "max_result_rows": true, "max_result_bytes": true,
	"result_overflow_mode": true, "max_rows_to_read": true, "max_bytes_to_read": true, "read_overflow_mode": true,
	"max_rows_to_group_by": true, "group_by_overflow_mode": true, "max_memory_usage": true, "max_threads": true,
	"max_block_size": true, "extremes": true, "join_use_nulls": true, "session_timezone": true,
	"date_time_output_format": true, "output_format_json_quote_64bit_integers": true, "use_query_cache": true,
	"log_comment": true, "readonly": true,
}

var writerSettings = map[string]bool{
	"insert_deduplicate": true, "insert_deduplication_token": true, "deduplicate_blocks_in_dependent_materialized_views": true,
	"optimize_on_insert": true, "parallel_view_processing": true, "throw_on_max_partitions_per_insert_block": true,
	"max_insert_block_size": true, "date_time_input_format": true, "input_format_null_as_default": true,
}
