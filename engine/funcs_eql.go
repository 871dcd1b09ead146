package engine

// eqlFunctions are the IR built-ins Elastic's EQL needs beyond functions.
var eqlFunctions = map[string]function{}
