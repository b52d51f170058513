package config

import (
	"github.com/switchboard-relay/switchboard/sinks/catalog"
	"github.com/switchboard-relay/switchboard/sinks/spec"
)

// The value kinds of the config's keys, next to the key tables the decoder uses (topKeys,
// serverKeys, ruleKeys, …; a sink's keys and an action's come from the sink types' descriptors in
// sinks/catalog, see descriptorSpecs). The JSON Schema docs/config.schema.json is generated from
// the two (see jsonschema.go): the tables say which keys exist where, keySpecs what each key's
// value is, and docs/config.md what it means. A key added to a table without an entry here is
// reported by TestKeySpecsCoverTables.

// Enumerated values the decoder accepts (compared without regard to case).
var (
	storageDrivers = []string{"sqlite", "postgres"}
	logFormats     = []string{"text", "json"}
	logLevels      = []string{"debug", "info", "warn", "error"}
)

// valueKind is what a key's value is.
type valueKind int

const (
	kindString    valueKind = iota // any single value, read as text
	kindSecret                     // text that is never printed
	kindTemplate                   // text with {{ }} expressions
	kindExpr                       // an expr expression (no {{ }})
	kindInteger                    // a whole number no smaller than min
	kindBoolean                    // true or false
	kindDuration                   // a Go duration such as 10s
	kindSize                       // a byte count such as 4MiB
	kindRate                       // a rate such as 1/s
	kindEnum                       // one of enum, any case
	kindObject                     // a mapping whose keys are the table at the same path
	kindMap                        // a mapping of any names to values of the kind at path.*
	kindList                       // a list of values of the kind at path[]
	kindAddresses                  // one template or a list of them
	kindTree                       // any YAML structure (blocks, body)
	kindFieldType                  // a schema: field type
	kindIdent                      // a sink or rule name
)

// keySpec describes one key's value.
type keySpec struct {
	kind valueKind
	// enum lists the values of a kindEnum key.
	enum func() []string
	// min is the smallest kindInteger value; max, when set, the largest.
	min, max int
	// zero allows a zero kindDuration.
	zero bool
	// minItems is the fewest items of a kindList.
	minItems int
	// like names another path whose children describe this object's keys (a sink's retry is
	// defaults.retry).
	like string
}

// objectTables are the key tables of the config's mappings by path: "" is the file, "sinks.*" any
// sink, "rules[]" any rule. These are the tables the decoder checks keys against.
var objectTables = map[string]func() []string{
	"":                         func() []string { return topKeys },
	"server":                   func() []string { return serverKeys },
	"server.auth":              func() []string { return authKeys },
	"storage":                  func() []string { return storageKeys },
	"log":                      func() []string { return logKeys },
	"defaults":                 func() []string { return deliveryKeys },
	"defaults.retry":           func() []string { return retryKeys },
	"sinks.*":                  allSinkKeys,
	"rules[]":                  func() []string { return ruleKeys },
	"rules[].actions[]":        actionKeys,
	"schema":                   func() []string { return SchemaMaps },
	"server.tls":               func() []string { return tlsKeys },
	"server.tls.acme":          func() []string { return acmeKeys },
	"tests[]":                  func() []string { return testKeys },
	"tests[].expect":           func() []string { return expectKeys },
	"tests[].expect.actions[]": func() []string { return expectActionKeys },
	"notify":                   func() []string { return notifyKeys },
	"notify.dead_letters":      func() []string { return deadLettersKeys },
	"notify.sink_down":         func() []string { return sinkDownKeys },
}

// keySpecs describe every key of the tables by path; the keys of sinks (sinks.*.…) and of actions
// (rules[].actions[].…) come from the sink types' descriptors (see descriptorSpecs).
var keySpecs = descriptorSpecs(map[string]keySpec{
	"server":                        {kind: kindObject},
	"server.listen":                 {kind: kindString},
	"server.webhook_path":           {kind: kindString},
	"server.auth":                   {kind: kindObject},
	"server.auth.token":             {kind: kindSecret},
	"server.max_body_bytes":         {kind: kindSize},
	"server.admin_token":            {kind: kindSecret},
	"server.tls":                    {kind: kindObject},
	"server.tls.cert_file":          {kind: kindString},
	"server.tls.key_file":           {kind: kindString},
	"server.tls.acme":               {kind: kindObject},
	"server.tls.acme.domains":       {kind: kindList, minItems: 1},
	"server.tls.acme.domains[]":     {kind: kindString},
	"server.tls.acme.email":         {kind: kindString},
	"server.tls.acme.cache_dir":     {kind: kindString},
	"server.tls.acme.directory_url": {kind: kindString},

	"server.public_url": {kind: kindString},

	"notify":                         {kind: kindObject},
	"notify.dead_letters":            {kind: kindObject},
	"notify.dead_letters.sink":       {kind: kindIdent},
	"notify.dead_letters.group_wait": {kind: kindDuration},
	"notify.dead_letters.text":       {kind: kindTemplate},
	"notify.dead_letters.to":         {kind: kindAddresses},
	"notify.sink_down":               {kind: kindObject},
	"notify.sink_down.sink":          {kind: kindIdent},
	"notify.sink_down.to":            {kind: kindAddresses},

	"include":   {kind: kindList},
	"include[]": {kind: kindString},

	"tests":                             {kind: kindList},
	"tests[]":                           {kind: kindObject},
	"tests[].name":                      {kind: kindString},
	"tests[].payload":                   {kind: kindString},
	"tests[].call":                      {kind: kindTree},
	"tests[].expect":                    {kind: kindObject},
	"tests[].expect.matched":            {kind: kindList},
	"tests[].expect.matched[]":          {kind: kindIdent},
	"tests[].expect.actions":            {kind: kindList},
	"tests[].expect.actions[]":          {kind: kindObject},
	"tests[].expect.actions[].sink":     {kind: kindIdent},
	"tests[].expect.actions[].contains": {kind: kindString},
	"tests[].expect.actions[].equals":   {kind: kindTree},

	"storage":                       {kind: kindObject},
	"storage.driver":                {kind: kindEnum, enum: func() []string { return storageDrivers }},
	"storage.path":                  {kind: kindString},
	"storage.dsn":                   {kind: kindSecret},
	"storage.retention":             {kind: kindDuration, zero: true},
	"storage.dead_letter_retention": {kind: kindDuration, zero: true},
	"storage.lease":                 {kind: kindDuration},

	"log":                    {kind: kindObject},
	"log.format":             {kind: kindEnum, enum: func() []string { return logFormats }},
	"log.level":              {kind: kindEnum, enum: func() []string { return logLevels }},
	"log.show_phone_numbers": {kind: kindBoolean},

	"defaults":                       {kind: kindObject},
	"defaults.retry":                 {kind: kindObject},
	"defaults.retry.max_attempts":    {kind: kindInteger, min: 1},
	"defaults.retry.initial_backoff": {kind: kindDuration},
	"defaults.retry.max_backoff":     {kind: kindDuration},
	"defaults.retry.max_age":         {kind: kindDuration},
	"defaults.concurrency":           {kind: kindInteger, min: 1},
	"defaults.hold_after":            {kind: kindDuration, zero: true},
	"defaults.probe_interval":        {kind: kindDuration},

	"sinks":                  {kind: kindMap},
	"sinks.*":                {kind: kindObject},
	"sinks.*.type":           {kind: kindEnum, enum: SinkTypes},
	"sinks.*.rate_limit":     {kind: kindRate},
	"sinks.*.retry":          {kind: kindObject, like: "defaults.retry"},
	"sinks.*.concurrency":    {kind: kindInteger, min: 1},
	"sinks.*.hold_after":     {kind: kindDuration, zero: true},
	"sinks.*.probe_interval": {kind: kindDuration},

	"rules":                  {kind: kindList},
	"rules[]":                {kind: kindObject},
	"rules[].name":           {kind: kindIdent},
	"rules[].when":           {kind: kindExpr},
	"rules[].stop":           {kind: kindBoolean},
	"rules[].actions":        {kind: kindList, minItems: 1},
	"rules[].actions[]":      {kind: kindObject},
	"rules[].actions[].sink": {kind: kindString},

	"schema":                       {kind: kindObject},
	"schema.extracted_variables":   {kind: kindMap},
	"schema.extracted_variables.*": {kind: kindFieldType},
	"schema.input_variables":       {kind: kindMap},
	"schema.input_variables.*":     {kind: kindFieldType},
})

// descriptorSpecs adds to specs the keys of every sink type and action key of sinks/catalog, and
// the key tables of their objects to objectTables.
func descriptorSpecs(specs map[string]keySpec) map[string]keySpec {
	for _, t := range catalog.Types {
		addSinkKeys(specs, "sinks.*", t.Keys)
	}
	for _, k := range catalog.AllActionKeys() {
		path := "rules[].actions[]." + k.Name
		switch k.Kind {
		case spec.ActionTemplate:
			specs[path] = keySpec{kind: kindTemplate}
		case spec.ActionAddresses:
			specs[path] = keySpec{kind: kindAddresses}
		case spec.ActionTemplateMap:
			specs[path] = keySpec{kind: kindMap}
			specs[path+".*"] = keySpec{kind: kindTemplate}
		default:
			specs[path] = keySpec{kind: kindTree}
		}
	}
	return specs
}

func addSinkKeys(specs map[string]keySpec, path string, keys []spec.Key) {
	for _, k := range keys {
		p := path + "." + k.Name
		if _, done := specs[p]; done {
			continue
		}
		switch k.Kind {
		case spec.KindObject:
			specs[p] = keySpec{kind: kindObject}
			names := keyNames(k.Keys)
			objectTables[p] = func() []string { return names }
			addSinkKeys(specs, p, k.Keys)
		case spec.KindSecret, spec.KindSecretURL:
			specs[p] = keySpec{kind: kindSecret}
		case spec.KindDuration:
			specs[p] = keySpec{kind: kindDuration}
		case spec.KindInteger:
			specs[p] = keySpec{kind: kindInteger, min: k.Min, max: k.Max}
		case spec.KindPort:
			specs[p] = keySpec{kind: kindInteger, min: 1, max: 65535}
		case spec.KindBoolean:
			specs[p] = keySpec{kind: kindBoolean}
		case spec.KindEnum:
			enum := k.Enum
			specs[p] = keySpec{kind: kindEnum, enum: func() []string { return enum }}
		case spec.KindHeaderSecrets:
			specs[p] = keySpec{kind: kindMap}
			specs[p+".*"] = keySpec{kind: kindSecret}
		default:
			specs[p] = keySpec{kind: kindString}
		}
	}
}
