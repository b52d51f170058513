// Package catalog is the one list of sink types: the config loader, the rules engine, `check`, the
// JSON Schema and the docs read the descriptors from here. Adding a sink type is one package that
// declares its Spec (see sinks/spec) and one line in Types; docs/sinks.md has the recipe.
package catalog

import (
	"github.com/switchboard-relay/switchboard/sinks/email"
	"github.com/switchboard-relay/switchboard/sinks/logsink"
	"github.com/switchboard-relay/switchboard/sinks/slack"
	"github.com/switchboard-relay/switchboard/sinks/spec"
	"github.com/switchboard-relay/switchboard/sinks/teams"
	"github.com/switchboard-relay/switchboard/sinks/twilio"
	"github.com/switchboard-relay/switchboard/sinks/webhook"
)

// Types are the sink types, one line each, in the order docs and messages list them.
var Types = []*spec.Descriptor{
	slack.Spec,
	webhook.Spec,
	email.Spec,
	teams.Spec,
	twilio.Spec,
	logsink.Spec,
}

// Lookup returns the type named name, or nil.
func Lookup(name string) *spec.Descriptor {
	for _, d := range Types {
		if d.Type == name {
			return d
		}
	}
	return nil
}

// Names returns the names of the types, in the order of Types.
func Names() []string {
	names := make([]string, len(Types))
	for i, d := range Types {
		names[i] = d.Type
	}
	return names
}

// ActionKeys returns the action keys an action for d may set: d's own, and for a type that
// AcceptsAll those of every other type too (see spec.Descriptor.AcceptsAll).
func ActionKeys(d *spec.Descriptor) []spec.ActionKey {
	if !d.AcceptsAll {
		return d.ActionKeys
	}
	return allActionKeys(d)
}

// AllActionKeys returns every action key of every type, as a type that AcceptsAll takes them (with
// no type's escaping).
func AllActionKeys() []spec.ActionKey { return allActionKeys(nil) }

// generality orders the action kinds from the most specific to the most general: a type that
// accepts every key takes, for a key two types give different kinds, the most general.
var generality = map[spec.ActionKind]int{
	spec.ActionTemplate:    0,
	spec.ActionTemplateMap: 1,
	spec.ActionAddresses:   2,
	spec.ActionTreeList:    3,
	spec.ActionTree:        4,
}

func allActionKeys(own *spec.Descriptor) []spec.ActionKey {
	var out []spec.ActionKey
	index := map[string]int{}
	if own != nil {
		for _, k := range own.ActionKeys {
			index[k.Name] = len(out)
			out = append(out, k)
		}
	}
	for _, d := range Types {
		if d == own {
			continue
		}
		for _, k := range d.ActionKeys {
			general := spec.ActionKey{Name: k.Name, Kind: k.Kind, Doc: k.Doc}
			if general.Kind == spec.ActionTreeList {
				general.Kind = spec.ActionTree
			}
			i, seen := index[k.Name]
			switch {
			case !seen:
				index[k.Name] = len(out)
				out = append(out, general)
			case own != nil && i < len(own.ActionKeys):
				// The type's own declaration wins.
			case generality[general.Kind] > generality[out[i].Kind]:
				out[i].Kind = general.Kind
			}
		}
	}
	return out
}
