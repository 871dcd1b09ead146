package rule

import (
	"slices"
	"sort"
	"strings"
)

// tactics maps ATT&CK tactic short names to ids. v19 added stealth and
// defense-impairment, splitting Defense Evasion; their new ids are not in
// firewarden's table, so they carry the legacy tactic instead.
var tactics = map[string]Tactic{
	"reconnaissance":       {ID: "TA0043", Name: "Reconnaissance"},
	"resource-development": {ID: "TA0042", Name: "Resource Development"},
	"initial-access":       {ID: "TA0001", Name: "Initial Access"},
	"execution":            {ID: "TA0002", Name: "Execution"},
	"persistence":          {ID: "TA0003", Name: "Persistence"},
	"privilege-escalation": {ID: "TA0004", Name: "Privilege Escalation"},
	"defense-evasion":      {ID: "TA0005", Name: "Defense Evasion"},
	"credential-access":    {ID: "TA0006", Name: "Credential Access"},
	"discovery":            {ID: "TA0007", Name: "Discovery"},
	"lateral-movement":     {ID: "TA0008", Name: "Lateral Movement"},
	"collection":           {ID: "TA0009", Name: "Collection"},
	"exfiltration":         {ID: "TA0010", Name: "Exfiltration"},
	"command-and-control":  {ID: "TA0011", Name: "Command and Control"},
	"impact":               {ID: "TA0040", Name: "Impact"},
	"stealth":              {Name: "Stealth", Legacy: &Tactic{ID: "TA0005", Name: "Defense Evasion"}},
	"defense-impairment":   {Name: "Defense Impairment", Legacy: &Tactic{ID: "TA0005", Name: "Defense Evasion"}},
}

// renamed maps ATT&CK v19 technique ids to the ids they had before, and
// back (see ../shared/corpus/README.md).
var renamed = map[string]string{
	"T1686":     "T1562.004", // Disable or Modify System Firewall
	"T1562.004": "T1686",
	"T1685":     "T1562.001", // Disable or Modify Tools
	"T1562.001": "T1685",
}

var techniqueNames = map[string]string{
	"T1686":     "Disable or Modify System Firewall",
	"T1562.004": "Disable or Modify System Firewall",
	"T1685":     "Disable or Modify Tools",
	"T1562.001": "Disable or Modify Tools",
	"T1562":     "Impair Defenses",
	"T1489":     "Service Stop",
}

// TechniqueOf fills a technique's name, reference and its id in the other
// ATT&CK release where firewarden knows it.
func TechniqueOf(id string) Technique {
	id = strings.ToUpper(id)
	return Technique{
		ID:        id,
		Name:      techniqueNames[id],
		Reference: "https://attack.mitre.org/techniques/" + strings.ReplaceAll(id, ".", "/") + "/",
		LegacyID:  renamed[id],
	}
}

// ThreatFromTags reads Sigma-style tags (attack.defense-evasion,
// attack.t1562.004) into ATT&CK mappings: every technique under every
// tactic named, as Sigma does not pair them.
func ThreatFromTags(tags []string) []Threat {
	var tacs []Tactic
	var techs []Technique
	seen := map[string]bool{}
	for _, t := range tags {
		t = strings.ToLower(strings.TrimSpace(t))
		rest, ok := strings.CutPrefix(t, "attack.")
		if !ok || seen[rest] {
			continue
		}
		seen[rest] = true
		if len(rest) > 1 && rest[0] == 't' && rest[1] >= '0' && rest[1] <= '9' {
			techs = append(techs, TechniqueOf(rest))
			continue
		}
		if tac, ok := tactics[rest]; ok {
			tac.Reference = tacticRef(tac.ID)
			tacs = append(tacs, tac)
		}
	}
	// A rule tagged with both ATT&CK releases' ids (attack.t1686 and
	// attack.t1562.004; attack.defense-impairment and
	// attack.defense-evasion), for tools that know only one of them, maps
	// once: the v19 technique carries the legacy id, the v19 tactic the
	// legacy tactic.
	techs = slices.DeleteFunc(techs, func(t Technique) bool {
		return t.LegacyID != "" && seen[strings.ToLower(t.LegacyID)] && !isV19(t.ID)
	})
	legacyTac := map[string]bool{}
	for _, t := range tacs {
		if t.Legacy != nil {
			legacyTac[t.Legacy.ID] = true
		}
	}
	tacs = slices.DeleteFunc(tacs, func(t Tactic) bool { return t.ID != "" && legacyTac[t.ID] })
	if len(tacs) == 0 && len(techs) == 0 {
		return nil
	}
	sort.SliceStable(techs, func(i, j int) bool { return techs[i].ID < techs[j].ID })
	if len(tacs) == 0 {
		return []Threat{{Framework: "MITRE ATT&CK", Techniques: techs}}
	}
	out := make([]Threat, len(tacs))
	for i, tac := range tacs {
		out[i] = Threat{Framework: "MITRE ATT&CK", Tactic: tac, Techniques: techs}
	}
	return out
}

func tacticRef(id string) string {
	if id == "" {
		return ""
	}
	return "https://attack.mitre.org/tactics/" + id + "/"
}

// RiskOf is the default risk score for a severity, as Elastic assigns them.
func RiskOf(severity string) int {
	switch severity {
	case "informational":
		return 1
	case "low":
		return 21
	case "medium":
		return 47
	case "high":
		return 73
	case "critical":
		return 99
	}
	return 0
}

// isV19 reports whether id is the ATT&CK v19 id of a renamed technique
// (T1686, T1685), as opposed to its legacy id (T1562.004, T1562.001).
func isV19(id string) bool {
	_, ok := renamed[id]
	return ok && !strings.Contains(id, ".")
}
